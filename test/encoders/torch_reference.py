"""PyTorch references for the encoder tests (run with Debian's /usr/bin/python3 + torch).

usage: torch_reference.py resnet DEPTH IN OUT  |  torch_reference.py text KIND IN OUT
IN holds the weights with torchvision / PyTorch names and layouts plus `input.*` tensors;
OUT receives `output.*`. The ResNet is written here from torchvision's definition (same
module names, so load_state_dict(strict=True) checks every name); torchvision itself is
not needed.
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": np.float32, "I32": np.int32, "I64": np.int64}


def read(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=DTYPES[e["dtype"]]).reshape(e["shape"]).copy())
    return out


def write(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().float().contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = shortcut(cin, planes, stride)

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = shortcut(cin, planes * 4, stride)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


def shortcut(cin, cout, stride):
    if stride == 1 and cin == cout:
        return None
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))


DEPTHS = {18: (BasicBlock, [2, 2, 2, 2]), 34: (BasicBlock, [3, 4, 6, 3]), 50: (Bottleneck, [3, 4, 6, 3]), 101: (Bottleneck, [3, 4, 23, 3])}


class ResNet(nn.Module):
    def __init__(self, depth):
        super().__init__()
        block, counts = DEPTHS[depth]
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for s, count in enumerate(counts):
            blocks = []
            for i in range(count):
                blocks.append(block(cin, 64 * 2**s, 2 if i == 0 and s > 0 else 1))
                cin = 64 * 2**s * block.expansion
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(cin, 1000)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def resnet(depth, tensors):
    model = ResNet(depth)
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("input.")}, strict=True)
    x = tensors["input.images"].permute(0, 3, 1, 2)  # NHWC -> NCHW
    model.eval()
    out = {"output.eval": model(x).permute(0, 2, 3, 1)}
    model.train()
    out["output.train"] = model(x).permute(0, 2, 3, 1)
    out["output.bn1.running_mean"] = model.bn1.running_mean
    out["output.bn1.running_var"] = model.bn1.running_var
    return out


def text(kind, tensors):
    emb = tensors["embedding.weight"]
    cls = nn.GRU if kind == "gru" else nn.LSTM
    hidden = tensors["rnn.weight_hh_l0"].shape[1]
    rnn = cls(emb.shape[1], hidden, batch_first=True, bidirectional=kind == "bilstm")
    rnn.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("rnn.")}, strict=True)
    tokens, mask = tensors["input.tokens"].long(), tensors["input.mask"]
    packed = nn.utils.rnn.pack_padded_sequence(F.embedding(tokens, emb), mask.sum(1).long(), batch_first=True, enforce_sorted=False)
    words, _ = nn.utils.rnn.pad_packed_sequence(rnn(packed)[0], batch_first=True, total_length=tokens.shape[1])
    if "proj.weight" in tensors:
        words = F.linear(words, tensors["proj.weight"], tensors["proj.bias"])
    words = words * mask[..., None]
    sentence = words.masked_fill(mask[..., None] == 0, float("-inf")).max(1).values
    return {"output.words": words, "output.sentence": sentence}


if __name__ == "__main__":
    what, kind, src, dst = sys.argv[1:5]
    torch.set_grad_enabled(False)
    tensors = read(src)
    write(dst, resnet(int(kind), tensors) if what == "resnet" else text(kind, tensors))
