"""One encoder of the PyTorch reference on torchvision / PyTorch-named weights, for the encoder
tests (test/encoders/reference.ts runs it with Debian's /usr/bin/python3 + torch).

  encoder_check.py resnet DEPTH IN OUT  |  encoder_check.py text KIND IN OUT

IN holds the weights with torchvision / PyTorch names and layouts plus `input.*` tensors; OUT
receives `output.*`. The modules are the reference's own (encoders.py), loaded with
load_state_dict(strict=True) so every name is checked; torchvision itself is not needed.
"""
import sys

import torch

from encoders import ResNet, TextEncoder
from safetensors_io import read_safetensors, write_safetensors


def weights(tensors, drop=()):
    return {k: v for k, v in tensors.items() if not k.startswith("input.") and not k.startswith(drop)}


def resnet(depth, tensors):
    """Features in eval and in training mode (NHWC), and bn1's running statistics after the latter."""
    model = ResNet(depth)
    model.load_state_dict(weights(tensors, drop=("fc.",)), strict=True)  # torchvision's classifier head is no backbone
    x = tensors["input.images"].permute(0, 3, 1, 2)  # NHWC -> NCHW
    model.eval()
    out = {"output.eval": model(x).permute(0, 2, 3, 1)}
    model.train()
    out["output.train"] = model(x).permute(0, 2, 3, 1)
    out["output.bn1.running_mean"] = model.bn1.running_mean
    out["output.bn1.running_var"] = model.bn1.running_var
    return out


def text(kind, tensors):
    """Word features and the sentence feature; the sizes come from the weights."""
    hidden = tensors["rnn.weight_hh_l0"].shape[1]
    width = hidden * (2 if kind == "bilstm" else 1)
    dim = tensors["proj.weight"].shape[0] if "proj.weight" in tensors else width
    cfg = {"type": kind, "embedding_dim": tensors["embedding.weight"].shape[1], "hidden": hidden}
    model = TextEncoder(cfg, dim, tensors["embedding.weight"].shape[0])
    model.load_state_dict(weights(tensors), strict=True)
    words, sentence = model(tensors["input.tokens"], tensors["input.mask"])
    return {"output.words": words, "output.sentence": sentence}


if __name__ == "__main__":
    what, kind, src, dst = sys.argv[1:5]
    torch.set_grad_enabled(False)
    tensors, _ = read_safetensors(src)
    out = resnet(int(kind), tensors) if what == "resnet" else text(kind, tensors)
    write_safetensors(dst, {k: v.float().contiguous() for k, v in out.items()})
