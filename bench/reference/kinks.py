"""Kinks: the points where a gradient jumps, so that float32 rounding can pick its side.

At a ReLU input of 0, or where the two largest values of a max-pool window (or of a max over an
axis) tie, the gradient is decided by the sign of a number. When that number is smaller than
float32's rounding error there, two correct float32 implementations may take different sides, and
their gradients differ by that one point's whole contribution: a parity check there compares two
draws of rounding, not two implementations. (Issue #28: a ReLU input of -1.5e-6 in float64,
inside the ±1.5e-5 float32 error at that layer, moved layer1's gradients by 2 % depending on
which oneDNN kernel sdfn's forward convolution ran.)

- `Recorder` patches F.relu, F.max_pool2d and Tensor.max(dim) while a model runs and keeps each
  call's input (a site), in call order, under the module that made it. Given `flips`, it runs
  those calls with the gradient of the named points sent to the other side of their kink.
- `knife_edges(exact, runs)` compares a float64 run's sites with float32 runs of the same model
  on the same inputs: a site's band is `margin` times the largest float32 error seen at it, and
  every point nearer to its kink than that is a knife edge.

Exact ties (a gap of 0 in float64 and in every float32 run) are not knife edges: no rounding
decides them. In these models they are ReLU-clipped zeros meeting in a max-pool window, whose
gradient dies at the ReLU below whichever one receives it.
"""
import torch
import torch.nn.functional as F


class Site:
    """One call of a kink op: its kind, the module path that made it, its input (float64 copy)."""

    def __init__(self, kind, where, x, params=None):
        self.kind, self.where, self.x, self.params = kind, where, x.detach().double().clone(), params or {}
        self.live = None  # (input, output) as the graph holds them, when the recorder keeps them

    def keep(self, x, y):
        """Keeps the live input and output (the output's gradient is retained) for `move`."""
        if y.requires_grad:
            y.retain_grad()
            self.live = (x, y)

    def move(self, point):
        """(tensor, vector): the gradient change of sending `point` to the other side of the kink
        is the vector-Jacobian product of `tensor` (this call's input, in the graph) with `vector`,
        to first order: a ReLU point passes (or stops) its output's gradient, a max window's
        gradient moves from its winner to its runner-up. Needs keep() and a backward pass."""
        x, y = self.live
        g = y.grad.flatten()[point] if y.grad is not None else torch.zeros((), dtype=x.dtype)
        v = torch.zeros(x.numel(), dtype=x.dtype)
        if self.kind == "relu":
            v[point] = g if self.x.flatten()[point] <= 0 else -g
        else:
            values, positions = _windows(self.x, self.kind, self.params)
            order = values.topk(2, -1).indices.reshape(-1, 2)[point]
            v[positions.reshape(-1, positions.shape[-1])[point, order[1]]] += g
            v[positions.reshape(-1, positions.shape[-1])[point, order[0]]] -= g
        return x, v.reshape(x.shape)

    def distance(self):
        """Each point's distance to its kink: the ReLU input itself, or the gap between the two
        largest values of each max window (inf where fewer than two are finite)."""
        if self.kind == "relu":
            return self.x
        values, _ = _windows(self.x, self.kind, self.params)
        top = values.topk(2, -1).values if values.shape[-1] > 1 else None
        if top is None:
            return torch.full(values.shape[:-1], float("inf"), dtype=values.dtype)
        gap = top[..., 0] - top[..., 1]
        return torch.where(torch.isfinite(gap), gap, torch.full_like(gap, float("inf")))


def _windows(x, kind, params):
    """(values, positions): each max's candidates on the last axis, and their flat indices into x."""
    positions = torch.arange(x.numel(), dtype=torch.float64).reshape(x.shape)
    if kind == "max_pool2d":
        k, s, p = params["kernel"], params["stride"], params["padding"]

        def windows(t, fill):  # (N, C, H, W) -> (N, C, Ho, Wo, k*k)
            return F.pad(t, (p, p, p, p), value=fill).unfold(2, k, s).unfold(3, k, s).flatten(-2)

        return windows(x, float("-inf")), windows(positions, -1).long()  # -1: padding, never a winner
    positions = positions.long()
    dim = params["dim"] % x.dim()
    return x.movedim(dim, -1), positions.movedim(dim, -1)


class _Flipped(torch.autograd.Function):
    """A kink op whose forward is the plain op and whose gradient at the flipped points goes to
    the other side: a ReLU passes (or blocks) it, a max sends it to the runner-up."""

    @staticmethod
    def forward(ctx, x, kind, params, flip, op):
        ctx.kind, ctx.params, ctx.shape = kind, params, x.shape
        ctx.save_for_backward(x, flip)
        return op(x)

    @staticmethod
    def backward(ctx, grad):
        x, flip = ctx.saved_tensors
        if ctx.kind == "relu":
            return grad * ((x > 0) ^ flip.reshape(x.shape)).to(grad.dtype), None, None, None, None
        values, positions = _windows(x, ctx.kind, ctx.params)
        order = values.topk(2, -1).indices  # (…, 2): the winner and the runner-up of each max
        pick = torch.where(flip.reshape(order.shape[:-1]), order[..., 1], order[..., 0])
        target = positions.gather(-1, pick.unsqueeze(-1)).squeeze(-1)
        dx = torch.zeros(x.numel(), dtype=grad.dtype)
        dx.index_add_(0, target.flatten(), grad.reshape(-1))
        return dx.reshape(x.shape), None, None, None, None


class Recorder:
    """with Recorder(model[, flips]) as r: model(...)  ->  r.sites, every kink op called inside it.

    flips: {call index: flat indices of the points (elements for a ReLU, windows for a max) whose
    gradient goes to the other side}."""

    def __init__(self, model, flips=None, keep=False):
        self.model, self.flips, self.keep = model, flips or {}, keep
        self.sites, self.stack, self.handles, self.saved = [], [], [], {}

    def __enter__(self):
        def enter(name):
            return lambda module, args: self.stack.append(name)  # returns None: the input stays

        def leave(module, args, output):
            self.stack.pop()  # returns None: the output stays

        for name, module in self.model.named_modules():
            self.handles.append(module.register_forward_pre_hook(enter(name)))
            self.handles.append(module.register_forward_hook(leave))
        relu, max_pool2d, tmax = F.relu, F.max_pool2d, torch.Tensor.max
        self.saved = {"relu": relu, "max_pool2d": max_pool2d, "max": tmax}

        def relu_(x, inplace=False):
            return self._call("relu", x, {}, lambda t: relu(t, inplace=inplace))

        def max_pool2d_(x, kernel_size, stride=None, padding=0, *args, **kwargs):
            if not (isinstance(kernel_size, int) and isinstance(stride, (int, type(None))) and isinstance(padding, int)) or args or kwargs:
                raise ValueError("kinks.Recorder: only max_pool2d(x, kernel, stride, padding) with ints is handled")
            params = {"kernel": kernel_size, "stride": stride or kernel_size, "padding": padding}
            return self._call("max_pool2d", x, params, lambda t: max_pool2d(t, kernel_size, stride, padding))

        def max_(x, *args, **kwargs):
            dim = args[0] if args and isinstance(args[0], int) else kwargs.get("dim")
            if dim is None or not self.stack or len(args) > 1 or set(kwargs) - {"dim"}:
                return tmax(x, *args, **kwargs)
            flip = self.flips.get(len(self.sites))
            site = Site("max", self._where(), x, {"dim": dim})
            self.sites.append(site)
            if flip is None:
                out = tmax(x, dim)
            else:
                values = _Flipped.apply(x, "max", {"dim": dim}, self._mask(flip, x.select(dim, 0).numel()), lambda t: tmax(t, dim).values)
                out = torch.return_types.max((values, tmax(x.detach(), dim).indices))
            if self.keep:
                site.keep(x, out.values)
            return out

        F.relu, F.max_pool2d, torch.Tensor.max = relu_, max_pool2d_, max_
        return self

    def __exit__(self, *exc):
        F.relu, F.max_pool2d, torch.Tensor.max = self.saved["relu"], self.saved["max_pool2d"], self.saved["max"]
        for h in self.handles:
            h.remove()
        return False

    def _where(self):
        return (self.stack[-1] or "(model)") if self.stack else "(top)"

    @staticmethod
    def _mask(flat, size):
        mask = torch.zeros(size, dtype=torch.bool)
        mask[torch.as_tensor(sorted(flat), dtype=torch.long)] = True
        return mask

    def _call(self, kind, x, params, op):
        flip = self.flips.get(len(self.sites))
        site = Site(kind, self._where(), x, params)
        self.sites.append(site)
        if flip is None:
            y = op(x)
        else:
            points = x.numel() if kind == "relu" else site.distance().numel()
            y = _Flipped.apply(x, kind, params, self._mask(flip, points), op)
        if self.keep:
            site.keep(x, y)
        return y


def knife_edges(exact, runs, margin=4.0, floor=1e-6):
    """The knife edges of `exact` (a float64 run's sites): one (call index, points, description)
    per site that has any, where points are (flat index, |distance to the kink| / band).

    runs: the sites of float32 runs of the same model on the same inputs (same call order).
    A site's band is margin × max(the largest |float32 − float64| of its input over the runs,
    floor × its largest finite |value|); a max's two values may each be off by that, so its
    band is doubled."""
    found = []
    for i, site in enumerate(exact):
        seen = [run[i] for run in runs if i < len(run) and run[i].kind == site.kind and run[i].x.shape == site.x.shape]
        if len(seen) != len(runs):
            raise ValueError(f"kinks: the float32 runs called other ops than the float64 run at call {i} ({site.kind} in {site.where})")
        finite = torch.isfinite(site.x)
        scale = site.x[finite].abs().max().item() if finite.any() else 0.0
        err = max(((s.x - site.x)[finite].abs().max().item() if finite.any() else 0.0) for s in seen)
        band = margin * max(err, floor * scale) * (1 if site.kind == "relu" else 2)
        distance = site.distance().flatten().abs()
        near = distance <= band
        if site.kind != "relu":
            near &= ~((distance == 0) & torch.stack([s.distance().flatten() == 0 for s in seen]).all(0))  # exact ties
        if not near.any():
            continue
        points = sorted(((int(p), distance[p].item() / band) for p in near.nonzero().flatten()), key=lambda q: q[1])
        closest = points[0][0]
        what = "input" if site.kind == "relu" else "gap between the two largest values"
        value = site.distance().flatten()[closest].item()
        found.append((i, points, (
            f"{site.kind} in {site.where} (call {i}): {len(points)} point(s) within ±{band:.2g} of the kink "
            f"(float32 error there {err:.2g}, values up to {scale:.3g}); closest: {what} "
            f"{value:.3g} at {tuple(_unravel(closest, site.distance().shape))}"
        )))
    return found


def _unravel(flat, shape):
    out = []
    for size in reversed(shape):
        out.append(flat % size)
        flat //= size
    return list(reversed(out))
