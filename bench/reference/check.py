"""Parity check: run the PyTorch reference on a batch that sdfn exported and
compare every output.

  /usr/bin/python3 bench/reference/check.py --weights W.safetensors --batch B.safetensors --recipe R.json [--rtol 1e-4]

W: sdfn's parameters (dotted names, sdfn layouts). B: the batch and sdfn's
results, names `input.*` and `output.*` (README.md). R: the resolved recipe
as JSON plus {"vocab_size": V, "training": false}; with "training": true both
sides run in training mode and B's `state.<name>` (batch-norm running statistics
after the pass) are compared too. When B holds `grad.<name>` (sdfn's gradients of
the total loss), the reference's gradients are compared too. Exit 0 when every output agrees, 1 with a
readable diff otherwise, 2 for unusable inputs.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import SDFN  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402
from weights import load_sdfn_weights, sdfn_gradients, sdfn_name  # noqa: E402
from kinks import Recorder, knife_edges  # noqa: E402
from agreement import GRADIENT_FLOOR, compare_all, explain  # noqa: E402

DTYPES = {"float64": torch.float64, "float32": torch.float32}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}


def build(spec, weights, dtype):
    """The reference with sdfn's weights, in `dtype`, in sdfn's mode (see run)."""
    model = SDFN(spec["recipe"], int(spec["vocab_size"]), image_channels=spec.get("image_channels"))
    load_sdfn_weights(model, weights)
    # evaluation: dropout off, batch norm from its running statistics; training: batch norm
    # from the batch, running statistics updated (dropout must be 0 in the recipe)
    model.train(bool(spec.get("training", False)))
    return model.to(dtype)


def forward(model, inputs, dtype, images=lambda x: x):
    """One pass on the exported inputs cast to `dtype`; `images` may re-lay-out the NHWC images."""
    inputs = {k: v.to(dtype) if v.is_floating_point() else v for k, v in inputs.items()}
    teacher = None
    if "teacher.0" in inputs:
        teacher = [inputs[f"teacher.{l}"] for l in range(len(model.fusion.layers))]
        teacher = (teacher, inputs.get("teacher_mask"))
    batch = {"reference": images(inputs["reference"]), "target": images(inputs["target"])}
    return model({**batch, "tokens": inputs["tokens"], "mask": inputs["mask"]}, teacher)


# float32 lay-outs of the images for the knife-edge check: the reference's own (the NHWC input
# permuted, so PyTorch runs channels-last) and NCHW-contiguous, two roundings of the same network
FLOAT32_LAYOUTS = (lambda x: x, lambda x: x.permute(0, 3, 1, 2).contiguous().permute(0, 2, 3, 1))


def knife_points(spec, weights, inputs, exact_sites):
    """The knife edges of the float64 run: kink points inside float32's error band (kinks.py)."""
    runs = []
    for layout in FLOAT32_LAYOUTS:
        model = build(spec, weights, torch.float32)
        with torch.no_grad(), Recorder(model) as r:
            forward(model, inputs, torch.float32, layout)
        runs.append(r.sites)
    return knife_edges(exact_sites, runs)


def reference(spec, weights, inputs, dtype, gradients, flips=None, keep=False):
    """The reference's outputs (and gradients of the total loss when asked), by exchange name,
    with the gradient of the `flips` points sent to the other side of their kinks; its kink
    sites; and, with `keep`, move(call, point): the gradients' change if that one point took
    the other side (a vector-Jacobian product on the kept graph, kinks.Site.move)."""
    model = build(spec, weights, dtype)
    with Recorder(model, flips, keep) as recorded:
        out = forward(model, inputs, dtype)
    ours = {"query": out["query"], "target": out["target"], "tokens": out["tokens"], "last_inputs": out["last_inputs"]}
    for l, p in enumerate(out["paths"]):
        ours[f"paths.{l}"] = p
    for name, value in out["loss"].items():
        ours[f"loss.{name}"] = value
    if out["total"] is not None:
        ours["loss.total"] = out["total"]
    if gradients:
        out["total"].backward(retain_graph=keep)
        ours.update({f"grad.{name}": g for name, g in sdfn_gradients(model).items()})
    buffers = {sdfn_name(n): b for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")}
    for name, b in buffers.items():  # batch-norm running statistics after a training pass
        ours[f"state.{name}"] = b
    return ours, recorded.sites, (lambda call, point: move(model, recorded.sites[call], point)) if keep else None


def move(model, site, point):
    """The change of every gradient (exchange names) if `point` of `site` took the other side."""
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    x, v = site.move(point)
    grads = torch.autograd.grad(x, [p for _, p in params], grad_outputs=v, retain_graph=True, allow_unused=True)
    return {f"grad.{k}": g for k, g in sdfn_gradients(model, {n: g for (n, _), g in zip(params, grads)}).items()}


def run(weights_path, batch_path, recipe_path, rtol, verbose=True, dtype=torch.float64):
    """Compares every output; returns the number that disagree.

    In float64 (the default) the reference is exact for this purpose. A disagreement that is
    entirely explained by knife edges (kink points inside float32's rounding error, kinks.py)
    taking the other side is reported and counted as agreement: there float32 rounding decides
    the gradient, on either side, in any correct float32 implementation."""
    with open(recipe_path) as f:
        spec = json.load(f)
    weights, _ = read_safetensors(weights_path)
    batch, _ = read_safetensors(batch_path)
    inputs = {k[len("input.") :]: v for k, v in batch.items() if k.startswith("input.")}
    expected = {k[len("output.") :]: v for k, v in batch.items() if k.startswith("output.")}
    expected.update({f"state.{k[len('state.') :]}": v for k, v in batch.items() if k.startswith("state.")})
    grads = {k[len("grad.") :]: v for k, v in batch.items() if k.startswith("grad.")}
    expected.update({f"grad.{k}": v for k, v in grads.items()})
    # a gradient that is ~0 in theory is float noise on both sides: compare it against at least
    # GRADIENT_FLOOR of the largest gradient
    gradient_floor = GRADIENT_FLOOR * max(g.abs().max().item() for g in grads.values()) if grads else 1e-6

    def run_with(flips):
        return reference(spec, weights, inputs, dtype, bool(grads), flips)[:2]

    ours, sites, moves = reference(spec, weights, inputs, dtype, bool(grads), keep=dtype == torch.float64)
    lines, failed = compare_all(ours, expected, rtol, gradient_floor)
    # knife edges are looked for only to explain a disagreement (two float32 passes)
    edges = knife_points(spec, weights, inputs, sites) if failed and dtype == torch.float64 else []
    explained = explain(moves, run_with, ours, edges, expected, rtol, gradient_floor) if edges else None
    if verbose or (failed and not explained):
        print("\n".join(lines))
    print(f"{len(lines) - failed}/{len(lines)} outputs agree to {rtol:g} with the {DTYPE_NAMES[dtype]} reference "
          "(relative to each tensor's largest value)")
    if explained:
        print(f"all {len(lines)} agree once {len(explained)} knife edge(s) take the other side of their kink "
              "(float32 rounding decides these; bench/reference/kinks.py):")
        print("\n".join(f"  {text}" for text in dict.fromkeys(t for _, _, t in explained)))
        return 0
    if edges:
        print("knife edges in this case, not enough to explain the disagreement:")
        print("\n".join(f"  {text}" for _, _, text in edges))
    return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--recipe", required=True)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="float64",
                    help="the reference's precision: float64 (default; also reports ill-posed kinks) or float32")
    a = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    try:
        failed = run(a.weights, a.batch, a.recipe, a.rtol, not a.quiet, DTYPES[a.dtype])
    except (ValueError, KeyError, FileNotFoundError) as e:
        print(f"check.py: error: {e}", file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
