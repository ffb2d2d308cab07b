"""Load sdfn's safetensors weights into the PyTorch reference.

Two things differ between the sides (README.md has the full table):
- names: the reference's state_dict keys are mapped to sdfn's dotted names by
  RENAMES (regex on the PyTorch key -> sdfn name), applied in order;
- layouts: sdfn stores dense weights [in, out] and conv weights [kh, kw, in, out]
  (NHWC-friendly); PyTorch stores [out, in] and [out, in, kh, kw]. Recurrent
  weights: sdfn [in, G*h] / [h, G*h] with one bias [G*h]; PyTorch [G*h, in] /
  [G*h, h] with two biases (the second is set to zero).
"""
import re

import torch
import torch.nn as nn

# (regex on the PyTorch name, replacement giving the sdfn name), first match wins.
RENAMES = [
    (r"^fusion\.layers\.(\d+)\.modules_\.(\d+)\.", r"fusion.layers.\1.modules.\2."),
]
# PyTorch tensors that sdfn does not store: (regex, value to fill or None to leave).
# sdfn's recurrent cells have one bias, bias_ih: for the LSTM it is PyTorch's bias_ih + bias_hh,
# for the GRU bias_hh is fixed at 0 (n = tanh(W_in x + b_in + r * W_hn h)).
IGNORED = r"\.num_batches_tracked$"
BIAS_HH = r"\.bias_hh_l\d+(_reverse)?$"


def sdfn_name(torch_name):
    for pattern, replacement in RENAMES:
        if re.search(pattern, torch_name):
            return re.sub(pattern, replacement, torch_name)
    return torch_name


def _owner(model, name):
    module = model
    for part in name.split(".")[:-1]:
        module = getattr(module, part)
    return module


def to_torch_layout(module, leaf, value):
    """sdfn layout -> PyTorch layout for parameter `leaf` of `module`."""
    if isinstance(module, nn.Linear) and leaf == "weight":
        return value.t()
    if isinstance(module, nn.Conv2d) and leaf == "weight":
        return value.permute(3, 2, 0, 1)  # [kh, kw, in, out] -> [out, in, kh, kw]
    if isinstance(module, nn.RNNBase) and leaf.startswith("weight_"):
        return value.t()
    if isinstance(module, nn.MultiheadAttention) and leaf == "in_proj_weight":  # CLIP: sdfn [w, 3w]
        return value.t()
    return value


def load_sdfn_weights(model, tensors):
    """Copies sdfn tensors into `model`. Raises with every missing, unused or
    misshapen name listed at once."""
    problems = []
    used = set()
    state = model.state_dict(keep_vars=True)
    with torch.no_grad():
        for name, target in state.items():
            key = sdfn_name(name)
            if re.search(IGNORED, name):
                continue
            if key not in tensors and re.search(BIAS_HH, name) and isinstance(_owner(model, name), nn.RNNBase):
                target.zero_()
                continue
            if key not in tensors:
                problems.append(f"missing: sdfn has no {key!r} (for PyTorch {name}, shape {tuple(target.shape)})")
                continue
            used.add(key)
            value = to_torch_layout(_owner(model, name), name.split(".")[-1], tensors[key].float())
            if value.numel() != target.numel() or (value.dim() > 1 and tuple(value.shape) != tuple(target.shape)):
                problems.append(
                    f"shape: {key!r} is {tuple(tensors[key].shape)} in sdfn, PyTorch {name} wants {tuple(target.shape)}"
                )
                continue
            target.copy_(value.reshape(target.shape))
    unused = sorted(set(tensors) - used)
    problems += [f"unused: sdfn tensor {k!r} {tuple(tensors[k].shape)} has no place in the reference" for k in unused]
    if problems:
        raise ValueError("weights do not fit the reference model:\n  " + "\n  ".join(problems))


def to_sdfn_layout(module, leaf, value):
    """PyTorch layout -> sdfn layout for tensor `leaf` of `module` (weights or their gradients)."""
    if isinstance(module, nn.Conv2d) and leaf == "weight":
        return value.permute(2, 3, 1, 0)
    if (isinstance(module, nn.Linear) and leaf == "weight") or (isinstance(module, nn.RNNBase) and leaf.startswith("weight_")):
        return value.t()
    if isinstance(module, nn.MultiheadAttention) and leaf == "in_proj_weight":
        return value.t()
    return value


def export_sdfn_weights(model):
    """The inverse: {sdfn name: tensor in sdfn layout}, for writing a safetensors file."""
    out = {}
    state = model.state_dict()
    for name, value in state.items():
        module, leaf = _owner(model, name), name.split(".")[-1]
        if re.search(IGNORED, name) or (isinstance(module, nn.RNNBase) and leaf.startswith("bias_hh")):
            continue
        if isinstance(module, nn.LSTM) and leaf.startswith("bias_ih"):
            value = value + state[name.replace("bias_ih", "bias_hh")]  # sdfn has one bias per gate
        out[sdfn_name(name)] = to_sdfn_layout(module, leaf, value).contiguous()
    return out


def sdfn_gradients(model, grads=None):
    """{sdfn name: gradient in sdfn layout} of every trainable parameter after backward(), or of
    `grads` ({PyTorch parameter name: gradient}) when given.
    (sdfn's one LSTM bias gets PyTorch's bias_ih gradient, which equals bias_hh's.)"""
    out = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        module, leaf = _owner(model, name), name.split(".")[-1]
        if isinstance(module, nn.RNNBase) and leaf.startswith("bias_hh"):
            continue
        grad = (grads or {}).get(name) if grads is not None else p.grad
        grad = grad if grad is not None else torch.zeros_like(p)
        out[sdfn_name(name)] = to_sdfn_layout(module, leaf, grad).contiguous()
    return out
