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

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import SDFN  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402
from weights import load_sdfn_weights, sdfn_gradients, sdfn_name  # noqa: E402


# A gradient that is ~0 in theory (a key bias under softmax) is float noise on both sides:
# gradients are compared relative to at least this fraction of the largest gradient.
GRADIENT_FLOOR = 1e-3


def compare(name, ours, theirs, rtol, floor=1e-6):
    """Scale-relative error: max |ref - sdfn| / max(max |sdfn|, floor) (the tensor's inf-norm)."""
    ours, theirs = ours.detach().double(), theirs.double()
    if ours.numel() == 1 and theirs.numel() == 1:  # a scalar loss may come as shape () or (1,)
        ours = ours.reshape(theirs.shape)
    if tuple(ours.shape) != tuple(theirs.shape):
        return False, f"{name}: shape {tuple(theirs.shape)} in sdfn, {tuple(ours.shape)} in the reference"
    diff = (ours - theirs).abs()
    scale = max(theirs.abs().max().item(), floor) if theirs.numel() else 1.0
    err = diff.max().item() / scale if theirs.numel() else 0.0
    ok = err <= rtol and bool(torch.isfinite(ours).all())
    line = f"{'ok ' if ok else 'BAD'} {name:<36} rel.err {err:.2e}  shape {tuple(theirs.shape)}"
    if not ok and theirs.numel():
        i = int(diff.flatten().argmax())
        idx = tuple(int(v) for v in np.unravel_index(i, tuple(theirs.shape))) if theirs.dim() else ()
        line += f"\n      worst at {idx}: sdfn {theirs.flatten()[i].item():.7g}, reference {ours.flatten()[i].item():.7g}"
        if theirs.numel() <= 16:
            line += f"\n      sdfn      {theirs.flatten().tolist()}\n      reference {ours.flatten().tolist()}"
    return ok, line


def run(weights_path, batch_path, recipe_path, rtol, verbose=True):
    with open(recipe_path) as f:
        spec = json.load(f)
    recipe, vocab_size = spec["recipe"], int(spec["vocab_size"])
    weights, _ = read_safetensors(weights_path)
    batch, _ = read_safetensors(batch_path)
    model = SDFN(recipe, vocab_size, image_channels=spec.get("image_channels"))
    load_sdfn_weights(model, weights)
    training = bool(spec.get("training", False))
    # evaluation: dropout off, batch norm from its running statistics; training: batch norm
    # from the batch, running statistics updated (dropout must be 0 in the recipe)
    model.train(training)
    inputs = {k[len("input.") :]: v for k, v in batch.items() if k.startswith("input.")}
    teacher = None
    if "teacher.0" in inputs:
        teacher = [inputs[f"teacher.{l}"] for l in range(len(model.fusion.layers))]
        teacher = (teacher, inputs.get("teacher_mask"))
    out = model(
        {"reference": inputs["reference"], "target": inputs["target"], "tokens": inputs["tokens"], "mask": inputs["mask"]},
        teacher,
    )
    ours = {"query": out["query"], "target": out["target"], "tokens": out["tokens"], "last_inputs": out["last_inputs"]}
    for l, p in enumerate(out["paths"]):
        ours[f"paths.{l}"] = p
    for name, value in out["loss"].items():
        ours[f"loss.{name}"] = value
    if out["total"] is not None:
        ours["loss.total"] = out["total"]
    expected = {k[len("output.") :]: v for k, v in batch.items() if k.startswith("output.")}
    states = {k[len("state.") :]: v for k, v in batch.items() if k.startswith("state.")}
    if states:  # batch-norm running statistics after a training pass
        buffers = {sdfn_name(n): b for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")}
        for name, value in states.items():
            expected[f"state.{name}"] = value
            if name in buffers:
                ours[f"state.{name}"] = buffers[name]
    lines, failed = [], 0
    gradient_floor = 1e-6
    grads = {k[len("grad.") :]: v for k, v in batch.items() if k.startswith("grad.")}
    if grads:
        out["total"].backward()
        theirs_max = max(g.abs().max().item() for g in grads.values())
        for name, g in sdfn_gradients(model).items():
            ours[f"grad.{name}"] = g
            if name in grads:
                expected[f"grad.{name}"] = grads[name]
        gradient_floor = GRADIENT_FLOOR * theirs_max
    for name in sorted(set(expected) | set(ours)):
        if name not in expected:
            lines.append(f"BAD {name:<36} computed by the reference but not exported by sdfn")
            failed += 1
        elif name not in ours:
            lines.append(f"BAD {name:<36} exported by sdfn but the reference has no such output")
            failed += 1
        else:
            floor = gradient_floor if name.startswith("grad.") else 1e-6
            ok, line = compare(name, ours[name], expected[name], rtol, floor)
            lines.append(line)
            failed += not ok
    if verbose or failed:
        print("\n".join(lines))
    print(f"{len(lines) - failed}/{len(lines)} outputs agree to {rtol:g} (relative to each tensor's largest value)")
    return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--recipe", required=True)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    try:
        failed = run(a.weights, a.batch, a.recipe, a.rtol, not a.quiet)
    except (ValueError, KeyError, FileNotFoundError) as e:
        print(f"check.py: error: {e}", file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
