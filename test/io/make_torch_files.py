"""Real PyTorch weight files for the state-dict reader's tests, written here by Debian's
python3-torch and python3-torchvision (never committed: test/io/torch-file.test.ts and
test/encoders/torchvision.test.ts run this into a temporary folder).

  make_torch_files.py forward|formats OUT_DIR

From torchvision's own resnet18() and resnet50() at random init (seed 0, the batch-norm affines
and running statistics scrambled so eval mode is no identity), `forward` writes
  resnet18.pth, resnet50.pth      torch.save(model.state_dict()) (the zip format)
  resnet{18,50}.io.safetensors    input.images (2, 64, 64, 3) NHWC and torchvision's forward up to
                                  layer4 (NHWC) in eval mode (output.eval) and in train mode
                                  (output.train, batch statistics), then bn1's running statistics
and `formats` writes resnet18.pth and the other files the reader must read or refuse:
  resnet18.sums.json   each tensor's shape and sum (float64), as PyTorch reads them
  resnet18-legacy.pth  the same state dict with _use_new_zipfile_serialization=False
  dtypes.pth       f16, bf16, f64, i64 tensors, a transposed (non-contiguous) one and a slice at an offset
  checkpoint.pth   {"epoch": 3, "state_dict": a Linear's state dict, weight [[1, 2], [3, 4], [5, 6]],
                   bias [0.5, -0.5, 1.5]} (a training checkpoint)
  list.pth         a list of tensors (not a state dict)
  model.pth        torch.save(module): a pickled torch.nn.Linear (names its class)
  evil.pth         a zip whose data.pkl calls os.system (must never run)
  truncated.pth    resnet18.pth cut to 60 % of its bytes
"""
import json
import os
import pickle
import sys
import zipfile

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench", "reference"))
from safetensors_io import write_safetensors  # noqa: E402


def scrambled(name):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return model


def features(model, x):
    """torchvision's own forward up to layer4 (the backbone sdfn loads), NCHW."""
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    return model.layer4(model.layer3(model.layer2(model.layer1(x))))


def forward_pair(name, out):
    model = scrambled(name)
    torch.save(model.state_dict(), os.path.join(out, f"{name}.pth"))
    g = torch.Generator().manual_seed(1)
    images = torch.randn(2, 64, 64, 3, generator=g)
    x = images.permute(0, 3, 1, 2)
    with torch.no_grad():
        model.eval()
        ev = features(model, x)
        model.train()
        tr = features(model, x)
    tensors = {
        "input.images": images,
        "output.eval": ev.permute(0, 2, 3, 1),
        "output.train": tr.permute(0, 2, 3, 1),
        "output.bn1.running_mean": model.bn1.running_mean,
        "output.bn1.running_var": model.bn1.running_var,
    }
    write_safetensors(os.path.join(out, f"{name}.io.safetensors"), {k: v.contiguous() for k, v in tensors.items()})
    return model


class Evil:
    def __reduce__(self):
        return (os.system, ("touch evil-ran",))


def formats(out):
    torch.manual_seed(0)
    state = scrambled("resnet18").state_dict()
    torch.save(state, os.path.join(out, "resnet18.pth"))
    sums = {k: {"shape": list(v.shape), "sum": v.double().sum().item()} for k, v in state.items()}
    json.dump(sums, open(os.path.join(out, "resnet18.sums.json"), "w"))
    torch.save(state, os.path.join(out, "resnet18-legacy.pth"), _use_new_zipfile_serialization=False)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    torch.save(
        {
            "half": torch.tensor([1.5, -2.25, 65504.0], dtype=torch.float16),
            "bfloat": torch.tensor([1.5, -2.25, 3.0e38], dtype=torch.bfloat16),
            "double": torch.tensor([[0.1, 0.2], [0.3, 0.4]], dtype=torch.float64),
            "long": torch.tensor([7, -8, 2**30], dtype=torch.int64),
            "transposed": base.t(),
            "slice": base[1:3, 2:5],
        },
        os.path.join(out, "dtypes.pth"),
    )
    linear = torch.nn.Linear(2, 3)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
        linear.bias.copy_(torch.tensor([0.5, -0.5, 1.5]))
    torch.save({"epoch": 3, "state_dict": linear.state_dict()}, os.path.join(out, "checkpoint.pth"))
    torch.save([base, base + 1], os.path.join(out, "list.pth"))
    torch.save(linear, os.path.join(out, "model.pth"))
    with zipfile.ZipFile(os.path.join(out, "evil.pth"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle.dumps({"x": Evil()}, protocol=2))
        z.writestr("archive/version", "3\n")
    raw = open(os.path.join(out, "resnet18.pth"), "rb").read()
    open(os.path.join(out, "truncated.pth"), "wb").write(raw[: int(len(raw) * 0.6)])


if __name__ == "__main__":
    what, out = sys.argv[1:3]
    if what == "forward":
        forward_pair("resnet18", out)
        forward_pair("resnet50", out)
    else:
        formats(out)
