"""SDFN in PyTorch, configured from an sdfn recipe (the resolved recipe as a dict)."""
import torch
import torch.nn as nn

from encoders import image_encoder, text_encoder
from fusion import Fusion
from losses import LOSSES


def _typed(section):
    return section if isinstance(section, dict) else {"type": section}


class SDFN(nn.Module):
    def __init__(self, recipe, vocab_size, image_channels=None):
        super().__init__()
        enc = recipe["encoders"]
        image_cfg = dict(_typed(enc["image"]))
        if image_channels is not None:
            image_cfg.setdefault("channels", image_channels)
        self.dim = int(image_cfg.get("dim", enc.get("dim", 0)) or recipe.get("dim", 0))
        self.image = image_encoder(image_cfg, self.dim)
        self.text = text_encoder(_typed(enc["text"]), self.dim, vocab_size)
        self.fusion = Fusion(self.dim, recipe["fusion"])
        self.losses = nn.ModuleDict()
        self.weights = {}
        for item in recipe.get("losses", []):
            item = _typed(item)
            if item["type"] not in LOSSES:
                raise ValueError(f"loss {item['type']!r}: the reference knows {sorted(LOSSES)}")
            self.losses[item["type"]] = LOSSES[item["type"]](item)
            self.weights[item["type"]] = float(item.get("weight", 1.0))

    def encode_query(self, reference, tokens, mask):
        x, pooled = self.image.encode(reference)
        words, sentence = self.text(tokens, mask)
        f, paths, last_inputs = self.fusion(x, words, mask, sentence, pooled)
        return {"query": f.mean(1), "tokens": f, "paths": paths, "last_inputs": last_inputs}

    def encode_target(self, images):
        return self.image.encode(images)[1]

    def forward(self, batch, teacher=None):
        """batch: reference, target (B, H, W, C), tokens (B, T), mask (B, T).
        -> outputs with every loss value and the weighted total."""
        out = self.encode_query(batch["reference"], batch["tokens"], batch["mask"])
        out["target"] = self.encode_target(batch["target"])
        out["loss"] = {name: loss(out, teacher) for name, loss in self.losses.items()}
        out["total"] = sum(self.weights[n] * v for n, v in out["loss"].items()) if out["loss"] else None
        return out
