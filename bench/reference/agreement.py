"""Agreement between sdfn's float32 results and a reference: every tensor within a tolerance of
its own largest value, and knife edges (kinks.py) as the only accepted explanation of a gradient
that is not.

Used by check.py (the whole network) and chains.py (conv / batch-norm / pooling chains).
"""
import numpy as np
import torch

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


def compare_all(ours, expected, rtol, gradient_floor):
    """Every exported output against the reference: (lines, number that disagree)."""
    lines, failed = [], 0
    for name in sorted(set(expected) | {k for k in ours if not k.startswith("state.")}):
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
    return lines, failed


# Knife edges tried one by one when explaining a disagreement; more than this is not searched.
MAX_KNIFE_POINTS = 8


def explain(moves, run_with, base, edges, expected, rtol, gradient_floor):
    """The knife edges that, sent to the other side, make the reference agree with sdfn: a list
    of (call, point, description), or None when no such set is found.

    moves(call, point): the gradients' change if that point alone took the other side;
    run_with(flips): a whole pass with the `flips` points on the other side; base: the outputs
    with none. Points are tried nearest to their kink first; the ones that move a gradient join
    a greedy choice (each lowers the worst disagreement), and as soon as the choice accounts for
    every gradient it is confirmed by one pass with all of it flipped (interactions included)."""
    if any(not compare(n, base[n], expected[n], rtol)[0] for n in expected if not n.startswith("grad.") and n in base):
        return None  # a knife edge's side moves gradients only: a wrong value is not explained by one
    points = sorted(((i, p, near, text) for i, ps, text in edges for p, near in ps), key=lambda q: q[2])
    names = [n for n in expected if n.startswith("grad.") and n in base]
    scale = {n: max(expected[n].double().abs().max().item(), gradient_floor) for n in names}
    start = {n: base[n].detach().double() for n in names}
    target = {n: expected[n].double() for n in names}

    def worst(total):
        return max((total[n] - target[n]).abs().max().item() / scale[n] for n in names)

    candidates = []
    for i, p, _, text in points[:MAX_KNIFE_POINTS]:
        moved = moves(i, p)
        d = {n: moved[n].detach().double() for n in names}
        if max(d[n].abs().max().item() / scale[n] for n in names) <= rtol / 10:
            continue  # no gradient notices this point's side
        candidates.append(((i, p, text), d))
        chosen, total = greedy(candidates, start, worst)
        if worst(total) <= rtol:
            flips = {}
            for c, q, _ in chosen:
                flips.setdefault(c, set()).add(q)
            confirmed, _ = run_with(flips)
            if compare_all(confirmed, expected, rtol, gradient_floor)[1] == 0:
                return chosen
    return None


def greedy(moves, start, worst):
    """Adds the move that lowers `worst` most until none does: (chosen points, the total)."""
    chosen, total, left = [], dict(start), list(moves)
    while left:
        score, k = min((worst({n: total[n] + d[n] for n in total}), k) for k, (_, d) in enumerate(left))
        if score >= worst(total):
            break
        point, d = left.pop(k)
        chosen.append(point)
        total = {n: total[n] + d[n] for n in total}
    return chosen, total
