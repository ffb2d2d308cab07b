"""Conv / batch-norm / pooling chains against PyTorch's float64 autograd.

  /usr/bin/python3 bench/reference/chains.py RUN_DIR [RUN_DIR ...] [--rtol 1e-4]

Each RUN_DIR holds what test/backend/layout-chains-run.ts wrote: chains.json (the chain specs,
the input forms, the machine facts) and sdfn.safetensors (per case `c<chain>.<form>`: the stored
input, the parameters, the output cotangent r, sdfn's output y and its gradients of sum(y · r)).
Every case is rebuilt here from the spec in float64 and compared like check.py compares the
network (agreement.py): each tensor to rtol of its largest value, a gradient that differs only
where a knife edge took the other side accepted and named. Exit 0 when every case of every run
agrees, 1 otherwise (one line per case; the disagreeing tensors in full).
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agreement import GRADIENT_FLOOR, compare_all, explain  # noqa: E402
from kinks import Recorder, knife_edges  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402

EPS = 1e-5  # batch norm's epsilon, as layout-chains.ts uses it


def same_pads(size, k, stride):
    """TensorFlow's 'same': the total padding, the smaller half first."""
    total = max((-(-size // stride) - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def pad_of(x, layer):
    """F.pad arguments (left, right, top, bottom) for a layer's tfjs padding."""
    pad, k, s = layer.get("pad", "valid"), layer["k"], layer.get("stride", 1)
    if pad == "same":
        top, bottom = same_pads(x.shape[2], k, s)
        left, right = same_pads(x.shape[3], k, s)
        return left, right, top, bottom
    p = 0 if pad == "valid" else int(pad)
    return p, p, p, p


class Chain:
    """One chain over float64 leaves: the stored input `base` and the parameters (NCHW inside)."""

    def __init__(self, spec, form, tensors, dtype):
        self.spec, self.form = spec, form
        self.base = tensors["input.base"].to(dtype).requires_grad_()
        self.params = {k[len("param.") :]: v.to(dtype) for k, v in tensors.items() if k.startswith("param.")}
        for name, p in self.params.items():
            p.requires_grad_(not (name.endswith(".mean") or name.endswith(".var")))
        self.r = tensors["input.r"].to(dtype)

    def leaves(self):
        """Every tensor a gradient is exported for, by exchange name."""
        return {"grad.base": self.base, **{f"grad.{k}": p for k, p in self.params.items() if p.requires_grad}}

    def forward(self):
        x = self.base  # the chain's input as NCHW
        if self.form == "nchw_view":
            pass
        elif self.form == "sliced":
            n, h, w, c = self.spec["input"]
            x = x[:, :, 1 : 1 + w, :].permute(0, 3, 1, 2)
        else:
            x = x.permute(0, 3, 1, 2)
        return self.run(self.spec["layers"], x, "").permute(0, 2, 3, 1)  # NHWC, as sdfn's y

    def run(self, layers, x, prefix):
        for i, layer in enumerate(layers):
            name, op = f"{prefix}l{i}", layer["op"]
            if op == "conv":
                w = self.params[f"{name}.w"]
                # OIHW as PyTorch wants it (a filter view is stored so; tfjs's [k, k, in, out] otherwise;
                # depthwise [k, k, C, 1] → [C, 1, k, k])
                w = w if self.form == "filter_views" else w.permute(3, 2, 0, 1)
                groups = 1
                if layer.get("depthwise"):
                    w, groups = w.permute(1, 0, 2, 3), x.shape[1]
                x = F.conv2d(F.pad(x, pad_of(x, layer)), w, stride=layer.get("stride", 1), groups=groups)
            elif op == "bn":
                gamma, beta = self.params[f"{name}.gamma"], self.params[f"{name}.beta"]
                if layer["train"]:
                    x = F.batch_norm(x, None, None, gamma, beta, True, 0.0, EPS)
                else:
                    x = F.batch_norm(x, self.params[f"{name}.mean"], self.params[f"{name}.var"], gamma, beta, False, 0.0, EPS)
            elif op == "relu":
                x = F.relu(x)
            elif op == "maxpool":
                x = F.max_pool2d(F.pad(x, pad_of(x, layer), value=float("-inf")), layer["k"], layer["stride"], 0)
            elif op == "residual":
                x = self.run(layer["body"], x, f"{name}.body.") + self.run(layer["shortcut"], x, f"{name}.shortcut.")
            else:
                raise ValueError(f"chains.py: unknown op {op!r} in {name}")
        return x


class Model(torch.nn.Module):
    """A module around a chain, so kinks.Recorder names its sites."""

    def __init__(self, chain):
        super().__init__()
        self.chain = chain

    def forward(self):
        return self.chain.forward()


def reference(spec, form, tensors, dtype=torch.float64, flips=None, keep=False):
    """(outputs by exchange name, kink sites, moves or None) of one case."""
    chain = Chain(spec, form, tensors, dtype)
    model = Model(chain)
    with Recorder(model, flips, keep) as recorded:
        y = model()
    leaves = chain.leaves()
    grads = torch.autograd.grad((y * chain.r).sum(), list(leaves.values()), retain_graph=keep)
    ours = {"output.y": y, **dict(zip(leaves, grads))}

    def moves(call, point):
        x, v = recorded.sites[call].move(point)
        delta = torch.autograd.grad(x, list(leaves.values()), grad_outputs=v, retain_graph=True, allow_unused=True)
        return {k: d if d is not None else torch.zeros_like(t) for (k, t), d in zip(leaves.items(), delta)}

    return ours, recorded.sites, moves if keep else None


def check_case(spec, form, tensors, rtol):
    """(ok, lines): one case against its float64 reference, knife edges explained."""
    expected = {k: v for k, v in tensors.items() if k.startswith("output.") or k.startswith("grad.")}
    gradient_floor = GRADIENT_FLOOR * max(v.abs().max().item() for k, v in expected.items() if k.startswith("grad."))
    ours, sites, moves = reference(spec, form, tensors, keep=True)
    lines, failed = compare_all(ours, expected, rtol, gradient_floor)
    note = ""
    if failed:
        # two float32 roundings of the chain (the stored input as given, and re-laid-out
        # channels-last) measure float32's error at each kink site
        runs = []
        for fmt in (torch.contiguous_format, torch.channels_last):
            chain = Chain(spec, form, tensors, torch.float32)
            chain.base = chain.base.detach().contiguous(memory_format=fmt)
            model = Model(chain)
            with torch.no_grad(), Recorder(model) as r:
                model()
            runs.append(r.sites)
        edges = knife_edges(sites, runs)

        def run_with(flips):
            return reference(spec, form, tensors, flips=flips)[0], None

        explained = explain(moves, run_with, ours, edges, expected, rtol, gradient_floor) if edges else None
        if explained:
            failed, note = 0, "; agrees once " + "; ".join(dict.fromkeys(t for _, _, t in explained)) + " took the other side"
    return failed == 0, lines, note


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--rtol", type=float, default=1e-4)
    a = ap.parse_args()
    torch.set_num_threads(1)
    bad = 0
    for run in a.runs:
        meta = json.load(open(os.path.join(run, "chains.json")))
        tensors, _ = read_safetensors(os.path.join(run, "sdfn.safetensors"))
        env = meta.get("env", {})
        print(f"{run}: {', '.join(f'{k}={v}' for k, v in env.items()) or 'default environment'}")
        for ci, spec in enumerate(meta["chains"]):
            for form in meta["forms"]:
                key = f"c{ci}.{form}."
                case = {k[len(key) :]: v for k, v in tensors.items() if k.startswith(key)}
                ok, lines, note = check_case(spec, form, case, a.rtol)
                print(f"  {'ok ' if ok else 'BAD'} {spec['name']} [{form}]{note}")
                if not ok:
                    bad += 1
                    print("\n".join(f"      {line}" for line in lines if not line.startswith("ok")))
    print(f"{bad} case(s) disagree with PyTorch's float64 autograd" if bad else "every case agrees with PyTorch's float64 autograd")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
