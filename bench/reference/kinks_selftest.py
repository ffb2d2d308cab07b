"""check.py's knife-edge rule checked on an exported case, without sdfn's gradients: the
reference's own float64 gradients with one knife edge (kinks.py) taken on the other side must
be accepted (and the edge named), and the same gradients with one tensor 1 % off must still
fail (naming it), knife edges or not.

  /usr/bin/python3 bench/reference/kinks_selftest.py CASE_DIR    (weights/batch.safetensors, recipe.json)
"""
import contextlib
import io
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check import knife_points, reference, run  # noqa: E402
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402


def check(case, batch_path):
    """check.py's comparison: (failed outputs, what it printed)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        failed = run(f"{case}/weights.safetensors", batch_path, f"{case}/recipe.json", 1e-4, verbose=False)
    return failed, printed.getvalue()


def with_gradients(batch, grads, path):
    out = {k: v for k, v in batch.items() if not k.startswith("grad.")}
    out.update({k: v.detach().float().contiguous() for k, v in grads.items() if k[len("grad.") :] in names(batch)})
    write_safetensors(path, out)
    return path


def names(batch):
    return {k[len("grad.") :] for k in batch if k.startswith("grad.")}


def main(case):
    spec = json.load(open(f"{case}/recipe.json"))
    weights, _ = read_safetensors(f"{case}/weights.safetensors")
    batch, _ = read_safetensors(f"{case}/batch.safetensors")
    inputs = {k[len("input.") :]: v for k, v in batch.items() if k.startswith("input.")}

    def run_with(flips):
        ours, _, _ = reference(spec, weights, inputs, torch.float64, True, flips)
        return {k: v for k, v in ours.items() if k.startswith("grad.")}

    ours, sites, moves = reference(spec, weights, inputs, torch.float64, True, keep=True)
    base = {k: v for k, v in ours.items() if k.startswith("grad.")}
    # the knife edge nearest its kink whose side moves a gradient by 1e-3 of its size or more
    edges = knife_points(spec, weights, inputs, sites)
    found = None
    for near, i, p, text in sorted((near, i, p, text) for i, points, text in edges for p, near in points):
        moved = moves(i, p)
        effect = max((moved[n].abs().max() / base[n].abs().max().clamp(min=1e-12)).item() for n in base)
        if effect >= 1e-3:
            found = (effect, run_with({i: {p}}), text)
            break
    if found is None:
        print("kinks selftest: this case has no knife edge that moves a gradient by 1e-3; pick a case that has one")
        return 2
    effect, flipped, text = found
    status, out = check(case, with_gradients(batch, flipped, f"{case}/flipped.safetensors"))
    if status != 0 or "knife edge" not in out:
        print(f"kinks selftest: gradients with one knife edge flipped (moving a gradient by {effect:.1e}) were not accepted:\n{out}")
        return 1
    wrong = dict(flipped)
    name = max(wrong, key=lambda n: wrong[n].numel())  # the largest gradient tensor, 1 % off
    wrong[name] = wrong[name] * 1.01
    status, out = check(case, with_gradients(batch, wrong, f"{case}/wrong.safetensors"))
    if status == 0 or f"BAD {name}" not in out:
        print(f"kinks selftest: {name} 1 % off was not flagged:\n{out}")
        return 1
    print(f"kinks selftest: a knife edge flipped (gradients moved by {effect:.1e}) was accepted, naming it; "
          f"{name} 1 % off was flagged\n  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
