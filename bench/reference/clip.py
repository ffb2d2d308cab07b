"""CLIP's two towers in plain PyTorch, written from the CLIP paper's architecture (Radford et al.
2021, section 2.4 and OpenAI's released model layout), with OpenAI's state-dict names, so a CLIP
state dict loads into them as it is: the reference for sdfn's clip_vit_* and clip_text encoders.

Image (ViT): patches by a stride-p conv (no bias) -> [class token; patches] + positions -> ln_pre ->
transformer -> ln_post -> @ proj. The class token is the image embedding; sdfn's region tokens are
the patch tokens through the same ln_post and proj. Image (modified ResNet): a 3-conv stem, anti-aliased
bottlenecks, attention pooling (the mean position queries all, F.multi_head_attention_forward as
OpenAI's code calls it); region tokens = each position through v_proj and c_proj. Text: token + positional embeddings ->
transformer with a causal mask -> ln_final -> @ text_projection; the text embedding is the feature
at <|endoftext|>. Blocks: x + attn(ln_1(x)), then x + mlp(ln_2(x)), mlp = c_fc, QuickGELU, c_proj.
"""
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F


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


class Bottleneck(nn.Module):
    """CLIP's anti-aliased bottleneck: strided blocks average-pool before conv3 and in the shortcut; every conv has stride 1."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.avgpool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride > 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(
                OrderedDict([("-1", nn.AvgPool2d(stride)), ("0", nn.Conv2d(inplanes, planes * 4, 1, bias=False)), ("1", nn.BatchNorm2d(planes * 4))])
            )

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(self.avgpool(out)))
        return torch.relu(out + (self.downsample(x) if self.downsample is not None else x))


class AttentionPool2d(nn.Module):
    """The mean of the map's positions attends to all of them (positions added), one multi-head attention, then c_proj."""

    def __init__(self, side, channels, heads, embed_dim):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.randn(side**2 + 1, channels) / channels**0.5)
        self.k_proj, self.q_proj, self.v_proj = (nn.Linear(channels, channels) for _ in range(3))
        self.c_proj = nn.Linear(channels, embed_dim)
        self.heads = heads

    def forward(self, x):
        """x (B, C, H, W) -> pooled (B, e), and each position through v_proj and c_proj (B, HW, e)."""
        x = x.flatten(2).permute(2, 0, 1)  # (HW, B, C)
        x = torch.cat([x.mean(0, keepdim=True), x]) + self.positional_embedding[:, None, :]
        pooled, _ = F.multi_head_attention_forward(
            query=x[:1], key=x, value=x, embed_dim_to_check=x.shape[-1], num_heads=self.heads,
            q_proj_weight=self.q_proj.weight, k_proj_weight=self.k_proj.weight, v_proj_weight=self.v_proj.weight, in_proj_weight=None,
            in_proj_bias=torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]), bias_k=None, bias_v=None,
            add_zero_attn=False, dropout_p=0.0, out_proj_weight=self.c_proj.weight, out_proj_bias=self.c_proj.bias,
            use_separate_proj_weight=True, training=False, need_weights=False,
        )
        return pooled[0], self.c_proj(self.v_proj(x[1:])).transpose(0, 1)


class ModifiedResNet(nn.Module):
    """CLIP's ResNet: a 3-conv stem and an average pool, anti-aliased bottleneck stages, attention pooling."""

    def __init__(self, layers, width, heads, image_resolution, embed_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width // 2, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width // 2)
        self.conv2 = nn.Conv2d(width // 2, width // 2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width // 2)
        self.conv3 = nn.Conv2d(width // 2, width, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        self.avgpool = nn.AvgPool2d(2)
        inplanes = width
        for s, count in enumerate(layers):
            blocks = []
            for i in range(count):
                blocks.append(Bottleneck(inplanes, width * 2**s, 2 if (i == 0 and s > 0) else 1))
                inplanes = width * 2**s * 4
            self.add_module(f"layer{s + 1}", nn.Sequential(*blocks))
        self.attnpool = AttentionPool2d(image_resolution // 32, width * 32, heads, embed_dim)

    def forward(self, images):
        """images (B, 3, H, W) -> (B, 1 + N, e): the pooled embedding first, then the region tokens (as VisionTransformer's)."""
        x = images
        for conv, bn in ((self.conv1, self.bn1), (self.conv2, self.bn2), (self.conv3, self.bn3)):
            x = torch.relu(bn(conv(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.avgpool(x)))))
        pooled, regions = self.attnpool(x)
        return torch.cat([pooled[:, None], regions], 1)


def vision_from(cfg):
    if isinstance(cfg.get("layers"), list):
        return ModifiedResNet([int(n) for n in cfg["layers"]], *(int(cfg[k]) for k in ("width", "heads", "image_resolution", "embed_dim")))
    return VisionTransformer(*(int(cfg[k]) for k in ("image_resolution", "patch", "width", "layers", "heads", "embed_dim")))


def text_from(cfg):
    return TextTransformer(*(int(cfg[k]) for k in ("vocab_size", "context_length", "width", "layers", "heads", "embed_dim")))
