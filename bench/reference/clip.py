"""CLIP's two towers in plain PyTorch, written from the CLIP paper's architecture (Radford et al.
2021, section 2.4 and OpenAI's released model layout), with OpenAI's state-dict names, so a CLIP
state dict loads into them as it is: the reference for sdfn's clip_vit_* and clip_text encoders.

Image: patches by a stride-p conv (no bias) -> [class token; patches] + positions -> ln_pre ->
transformer -> ln_post -> @ proj. The class token is the image embedding; sdfn's region tokens are
the patch tokens through the same ln_post and proj. Text: token + positional embeddings ->
transformer with a causal mask -> ln_final -> @ text_projection; the text embedding is the feature
at <|endoftext|>. Blocks: x + attn(ln_1(x)), then x + mlp(ln_2(x)), mlp = c_fc, QuickGELU, c_proj.
"""
from collections import OrderedDict

import torch
import torch.nn as nn


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            OrderedDict([("c_fc", nn.Linear(width, 4 * width)), ("gelu", QuickGELU()), ("c_proj", nn.Linear(4 * width, width))])
        )
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x, mask=None):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads):
        super().__init__()
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads) for _ in range(layers)])

    def forward(self, x, mask=None):
        for block in self.resblocks:
            x = block(x, mask)
        return x


class VisionTransformer(nn.Module):
    def __init__(self, image_resolution, patch, width, layers, heads, embed_dim):
        super().__init__()
        scale = width**-0.5
        self.conv1 = nn.Conv2d(3, width, patch, patch, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn((image_resolution // patch) ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, embed_dim))

    def forward(self, images):
        """images (B, 3, H, W) -> every token through ln_post and proj (B, 1 + N, e); [:, 0] is CLIP's embedding."""
        x = self.conv1(images).flatten(2).transpose(1, 2)  # (B, N, w)
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], 1) + self.positional_embedding
        x = self.transformer(self.ln_pre(x))
        return self.ln_post(x) @ self.proj


class TextTransformer(nn.Module):
    def __init__(self, vocab_size, context_length, width, layers, heads, embed_dim):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.positional_embedding = nn.Parameter(0.01 * torch.randn(context_length, width))
        self.transformer = Transformer(width, layers, heads)
        self.ln_final = nn.LayerNorm(width)
        self.text_projection = nn.Parameter(width**-0.5 * torch.randn(width, embed_dim))

    def forward(self, tokens):
        """tokens (B, T) -> every position's feature (B, T, e); causal, so padding after <|endoftext|> changes nothing before it."""
        t = tokens.shape[1]
        x = self.token_embedding(tokens.long()) + self.positional_embedding[:t]
        causal = torch.full((t, t), float("-inf"), dtype=x.dtype).triu(1)
        return self.ln_final(self.transformer(x, causal)) @ self.text_projection

    def encode_text(self, tokens):
        """CLIP's text embedding: the feature at the highest id, <|endoftext|> (B, e)."""
        return self(tokens)[torch.arange(tokens.shape[0]), tokens.argmax(-1)]


def vision_from(cfg):
    return VisionTransformer(*(int(cfg[k]) for k in ("image_resolution", "patch", "width", "layers", "heads", "embed_dim")))


def text_from(cfg):
    return TextTransformer(*(int(cfg[k]) for k in ("vocab_size", "context_length", "width", "layers", "heads", "embed_dim")))
