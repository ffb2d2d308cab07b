"""Image and text encoders of SDFN (docs/model.md §1), in plain PyTorch.

Image: a backbone (ResNet family, a small CNN, or precomputed feature maps)
then a 1x1 conv to d. Reference image -> region tokens X (B, N, d); target
image -> the average of its tokens t (B, d). Text: embeddings -> recurrent net
-> word features W (B, T, d); sentence s = max over the valid words (B, d).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from clip import text_from, vision_from


# ── ResNet family (torchvision layout and names) ─────────────────────────────
class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = _shortcut(cin, cout, stride)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


class Bottleneck(nn.Module):
    """ResNet v1.5: the stride sits on the 3x3 conv."""

    expansion = 4

    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.downsample = _shortcut(cin, cout, stride)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


def _shortcut(cin, cout, stride):
    if stride == 1 and cin == cout:
        return None
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))


RESNETS = {  # depth -> (block, blocks per stage)
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
}


class ResNet(nn.Module):
    """torchvision's ResNet up to the last feature map (no pooling, no fc)."""

    def __init__(self, depth):
        super().__init__()
        block, counts = RESNETS[depth]
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for stage, (width, count) in enumerate(zip((64, 128, 256, 512), counts)):
            blocks = []
            for i in range(count):
                blocks.append(block(cin, width, 2 if (i == 0 and stage > 0) else 1))
                cin = width * block.expansion
            self.add_module(f"layer{stage + 1}", nn.Sequential(*blocks))
        self.channels = cin

    def forward(self, x):  # (B, 3, H, W) -> (B, C, H/32, W/32)
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class SmallCNN(nn.Module):
    """Stages of conv3x3 (stride 2, padding 1) + BN + ReLU (without BN the conv has a bias)."""

    def __init__(self, channels=(32, 64, 128), batch_norm=True):
        super().__init__()
        self.stages = nn.ModuleList()
        for cin, cout in zip((3,) + tuple(channels[:-1]), channels):
            layers = [nn.Conv2d(cin, cout, 3, 2, 1, bias=not batch_norm)]
            layers += [nn.BatchNorm2d(cout)] if batch_norm else []
            self.stages.append(nn.Sequential(*layers, nn.ReLU()))
        self.channels = channels[-1]

    def forward(self, x):
        for stage in self.stages:
            x = stage(x)
        return x


class ImageEncoder(nn.Module):
    """backbone -> 1x1 conv to d. Inputs are NHWC (as sdfn's), converted here."""

    def __init__(self, cfg, dim):
        super().__init__()
        kind = cfg["type"]
        if kind.startswith("resnet"):
            self.backbone = ResNet(int(kind[len("resnet") :]))
            channels = self.backbone.channels
        elif kind == "small_cnn":
            self.backbone = SmallCNN(tuple(cfg.get("channels", (32, 64, 128))), bool(cfg.get("batch_norm", True)))
            channels = self.backbone.channels
        elif kind == "features":
            self.backbone = None
            channels = int(cfg.get("channels", 2048))
        else:
            raise ValueError(f"image encoder {kind!r}: the reference knows resnet18/34/50/101, small_cnn, features")
        self.proj = nn.Conv2d(channels, dim, 1)

    def forward(self, images):  # (B, H, W, C) -> tokens (B, N, d)
        x = images.permute(0, 3, 1, 2)
        if self.backbone is not None:
            x = self.backbone(x)
        x = self.proj(x)
        return x.flatten(2).transpose(1, 2)

    def encode(self, images):  # -> tokens (B, N, d), pooled (B, d): their mean
        tokens = self(images)
        return tokens, tokens.mean(1)


# ── text ─────────────────────────────────────────────────────────────────────
class TextEncoder(nn.Module):
    """Embedding -> LSTM / BiLSTM / GRU over the valid words (packed, so padding
    never enters the recurrence) -> W (B, T, d) with zeros at padding; s = max over valid words."""

    def __init__(self, cfg, dim, vocab_size):
        super().__init__()
        kind = cfg["type"]
        if kind not in ("lstm", "bilstm", "gru"):
            raise ValueError(f"text encoder {kind!r}: the reference knows lstm, bilstm, gru")
        self.embedding = nn.Embedding(vocab_size, int(cfg.get("embedding_dim", 300)))
        hidden = int(cfg.get("hidden", dim) or dim)
        bidirectional = kind == "bilstm"
        rnn = nn.GRU if kind == "gru" else nn.LSTM
        self.rnn = rnn(self.embedding.embedding_dim, hidden, batch_first=True, bidirectional=bidirectional)
        if kind == "gru":  # the GRU's hidden-side bias is fixed at 0: n = tanh(W_in x + b_in + r * (W_hn h))
            self.rnn.bias_hh_l0.data.zero_()
            self.rnn.bias_hh_l0.requires_grad_(False)
        out = hidden * (2 if bidirectional else 1)
        self.proj = nn.Linear(out, dim) if out != dim else None

    def forward(self, tokens, mask):  # (B, T) int, (B, T) float -> (B, T, d), (B, d)
        lengths = mask.sum(1).long().clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embedding(tokens.long()), lengths, batch_first=True, enforce_sorted=False
        )
        out, _ = self.rnn(packed)
        words, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=tokens.shape[1])
        if self.proj is not None:
            words = self.proj(words)
        words = words * mask.unsqueeze(-1)
        sentence = words.masked_fill(mask.unsqueeze(-1) == 0, float("-inf")).max(1).values
        return words, sentence


# ── CLIP (clip.py): towers under `backbone` in OpenAI's names, then a linear to d when d != e ──
class ClipImageEncoder(nn.Module):
    """Region tokens = the patch tokens, pooled = the class token (CLIP's image embedding)."""

    def __init__(self, cfg, dim):
        super().__init__()
        self.backbone = vision_from(cfg)
        e = int(cfg["embed_dim"])
        self.proj = nn.Linear(e, dim) if e != dim else None

    def encode(self, images):  # (B, H, W, 3) -> tokens (B, N, d), pooled (B, d)
        y = self.backbone(images.permute(0, 3, 1, 2))
        if self.proj is not None:
            y = self.proj(y)
        return y[:, 1:], y[:, 0]

    def forward(self, images):
        return self.encode(images)[0]


class ClipTextEncoder(nn.Module):
    """W = every token's feature (0 at padding); s = the feature at the last real token (<|endoftext|>)."""

    def __init__(self, cfg, dim):
        super().__init__()
        self.backbone = text_from(cfg)
        e = int(cfg["embed_dim"])
        self.proj = nn.Linear(e, dim) if e != dim else None

    def forward(self, tokens, mask):  # (B, T), (B, T) -> (B, T, d), (B, d)
        x = self.backbone(tokens)
        if self.proj is not None:
            x = self.proj(x)
        last = mask.sum(1).long() - 1
        return x * mask.unsqueeze(-1), x[torch.arange(x.shape[0]), last]


def image_encoder(cfg, dim):
    return ClipImageEncoder(cfg, dim) if cfg["type"].startswith("clip_") else ImageEncoder(cfg, dim)


def text_encoder(cfg, dim, vocab_size):
    return ClipTextEncoder(cfg, dim) if cfg["type"] == "clip_text" else TextEncoder(cfg, dim, vocab_size)
