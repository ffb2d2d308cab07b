"""Fusion of SDFN (docs/model.md): the operation modules JRM, CAM, GTM, RCM, the
routers msr / shared / static, and L layers of dynamic routing between them.

Every module maps (x (B, N, d), W (B, T, d), mask (B, T), s (B, d), pooled (B, d)) -> (B, N, d);
pooled is the image encoder's pooled embedding in layer 1 and the mean of x in later layers.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    """Multi-head scaled dot-product attention with q, k, v, o projections."""

    def __init__(self, dim, heads, dropout=0.0):
        super().__init__()
        if dim % heads:
            raise ValueError(f"attention: dim {dim} is not divisible by heads {heads}")
        self.heads = heads
        self.dropout = nn.Dropout(dropout)  # on the attention weights
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, x, context, key_mask=None):  # (B, N, d), (B, T, d), (B, T) -> (B, N, d)
        b, n, d = x.shape
        h = self.heads
        q = self.q(x).view(b, n, h, d // h).transpose(1, 2)  # (B, h, N, dh)
        k = self.k(context).view(b, -1, h, d // h).transpose(1, 2)  # (B, h, T, dh)
        v = self.v(context).view(b, -1, h, d // h).transpose(1, 2)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // h)  # (B, h, N, T)
        if key_mask is not None:
            scores = scores.masked_fill(key_mask[:, None, None, :] == 0, float("-inf"))
        out = self.dropout(scores.softmax(-1)) @ v  # (B, h, N, dh)
        return self.o(out.transpose(1, 2).reshape(b, n, d))


class FeedForward(nn.Module):
    def __init__(self, dim, hidden, dropout):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


class JRM(nn.Module):
    """Joint reasoning: concat(x, s) along tokens -> linear -> self-attention ->
    FFN, each with residual + LayerNorm -> the N image tokens."""

    def __init__(self, dim, cfg):
        super().__init__()
        self.input = nn.Linear(dim, dim)
        self.attn = Attention(dim, int(cfg.get("heads", 8)), float(cfg.get("dropout", 0.1)))
        self.norm1 = nn.LayerNorm(dim)
        self.ffn = FeedForward(dim, _ffn_width(dim, cfg), float(cfg.get("dropout", 0.1)))
        self.norm2 = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(float(cfg.get("dropout", 0.1)))

    def forward(self, x, words, mask, sentence, pooled=None):
        n = x.shape[1]
        z = self.input(torch.cat([x, sentence[:, None, :]], 1))  # (B, N+1, d)
        z = self.norm1(z + self.dropout(self.attn(z, z)))
        z = self.norm2(z + self.dropout(self.ffn(z)))
        return z[:, :n]


class CAM(nn.Module):
    """Cross attention: queries from LN(x), keys/values from the valid words;
    residual, then a pre-norm FFN with residual."""

    def __init__(self, dim, cfg):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, int(cfg.get("heads", 8)), float(cfg.get("dropout", 0.1)))
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = FeedForward(dim, _ffn_width(dim, cfg), float(cfg.get("dropout", 0.1)))
        self.dropout = nn.Dropout(float(cfg.get("dropout", 0.1)))

    def forward(self, x, words, mask, sentence, pooled=None):
        h = x + self.dropout(self.attn(self.norm1(x), words, mask))
        return h + self.dropout(self.ffn(self.norm2(h)))


class GTM(nn.Module):
    """Global transformation (FiLM): gamma = W_g s, beta = W_b s; gamma * x + beta."""

    def __init__(self, dim, cfg):
        super().__init__()
        self.gamma = nn.Linear(dim, dim)
        self.beta = nn.Linear(dim, dim)

    def forward(self, x, words, mask, sentence, pooled=None):
        return self.gamma(sentence)[:, None, :] * x + self.beta(sentence)[:, None, :]


class RCM(nn.Module):
    """Residual connection: the identity."""

    def __init__(self, dim, cfg):
        super().__init__()

    def forward(self, x, words, mask, sentence, pooled=None):
        return x


# ── the peers' composition methods (src/modules/{tirg,artemis,combiner}.ts) ──
def _l2(x):
    return x / x.norm(dim=-1, keepdim=True).clamp(min=1e-12)


class _MLP(nn.Module):
    def __init__(self, cin, hidden, cout):
        super().__init__()
        self.fc1 = nn.Linear(cin, hidden)
        self.fc2 = nn.Linear(hidden, cout)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class TIRG(nn.Module):
    """TIRG (Vo et al. 2019): w_g * sigmoid(MLP_g[x; s]) * x + w_r * MLP_r[x; s], on the pooled
    feature (every token gets the result) or on each token."""

    def __init__(self, dim, cfg):
        super().__init__()
        hidden = int(round(float(cfg.get("hidden_mult", 2)) * dim))
        self.tokens = cfg.get("apply_to", "pooled") == "tokens"
        self.gate = _MLP(2 * dim, hidden, dim)
        self.residual = _MLP(2 * dim, hidden, dim)
        self.gate_weight = nn.Parameter(torch.tensor([float(cfg.get("gate_weight", 1.0))]))
        self.residual_weight = nn.Parameter(torch.tensor([float(cfg.get("residual_weight", 10.0))]))

    def _compose(self, x, s):
        xs = torch.cat([x, s.expand_as(x)], -1)
        return self.gate_weight * torch.sigmoid(self.gate(xs)) * x + self.residual_weight * self.residual(xs)

    def forward(self, x, words, mask, sentence, pooled=None):
        if self.tokens:
            return self._compose(x, sentence[:, None, :])
        return self._compose(pooled, sentence)[:, None, :].expand_as(x)


class ChannelAttention(nn.Module):
    """softmax over the channels of MLP(m)."""

    def __init__(self, dim):
        super().__init__()
        self.fc1 = nn.Linear(dim, dim)
        self.fc2 = nn.Linear(dim, dim)

    def forward(self, m):
        return self.fc2(F.relu(self.fc1(m))).softmax(-1)


class ARTEMIS(nn.Module):
    """ARTEMIS (Delmas et al. 2022) as one query vector: score(t) = <q, t> with
    q = A_EM(m) * n(T m) + A_IS(m) * n(A_IS(m) * r), r and m L2-normalised (the attended target is
    not re-normalised: see src/modules/artemis.ts)."""

    def __init__(self, dim, cfg):
        super().__init__()
        self.transform = nn.Linear(dim, dim)
        self.attention_em = ChannelAttention(dim)
        self.attention_is = ChannelAttention(dim)

    def forward(self, x, words, mask, sentence, pooled=None):
        r, m = _l2(pooled), _l2(sentence)
        a_em, a_is = self.attention_em(m), self.attention_is(m)
        q = a_em * _l2(self.transform(m)) + a_is * _l2(a_is * r)
        return q[:, None, :].expand_as(x)


class Combiner(nn.Module):
    """CLIP4Cir's Combiner (Baldrati et al. 2022): n(W_o c + lambda s + (1 - lambda) r)."""

    def __init__(self, dim, cfg):
        super().__init__()
        width = int(round(float(cfg.get("projection_mult", 4)) * dim))
        hidden = int(round(float(cfg.get("hidden_mult", 8)) * dim))
        self.text_projection = nn.Linear(dim, width)
        self.image_projection = nn.Linear(dim, width)
        self.combiner = nn.Linear(2 * width, hidden)
        self.output = nn.Linear(hidden, dim)
        self.scalar = _MLP(2 * width, hidden, 1)
        self.dropout = nn.Dropout(float(cfg.get("dropout", 0.5)))

    def forward(self, x, words, mask, sentence, pooled=None):
        s, r = sentence, pooled
        projected = torch.cat([self.dropout(F.relu(self.text_projection(s))), self.dropout(F.relu(self.image_projection(r)))], -1)
        c = self.dropout(F.relu(self.combiner(projected)))
        lam = torch.sigmoid(self.scalar.fc2(self.dropout(F.relu(self.scalar.fc1(projected)))))
        out = _l2(self.output(c) + lam * s + (1 - lam) * r)
        return out[:, None, :].expand_as(x)


MODULES = {"JRM": JRM, "CAM": CAM, "GTM": GTM, "RCM": RCM, "TIRG": TIRG, "ARTEMIS": ARTEMIS, "Combiner": Combiner}


def _ffn_width(dim, cfg):
    return int(round(float(cfg.get("ffn_mult", 4)) * dim))


# ── routers ──────────────────────────────────────────────────────────────────
def _mlp(cin, hidden, cout):
    """hidden = 0: a single linear layer."""
    if hidden == 0:
        return nn.Sequential(nn.Linear(cin, cout))
    return nn.Sequential(nn.Linear(cin, hidden), nn.ReLU(), nn.Linear(hidden, cout))


def _normalise(logits, final):
    """Hidden layers: each sender's distribution over the receivers (last axis).
    Last layer: R = 1 and the distribution runs over the senders (axis 1)."""
    return logits.softmax(1 if final else -1)


def _attention_pool(query, tokens, mask=None):
    """query (d,), tokens (B, N, d), mask (B, N) or None -> (B, d): softmax(tokens . q / sqrt d) pooling."""
    scores = tokens @ query / math.sqrt(tokens.shape[-1])  # (B, N)
    if mask is not None:
        scores = scores.masked_fill(mask == 0, float("-inf"))
    return (scores.softmax(-1)[:, :, None] * tokens).sum(1)


def _region_queries(router, dim, senders, cfg):
    """pool "attention" (the default of msr and shared alike): a learned query per sender,
    `image_query` (zeros at the start: the mean); "mean": none."""
    router.attention = cfg.get("pool", "attention") == "attention"
    if router.attention:
        router.image_query = nn.Parameter(torch.zeros(senders, dim))


def _pool_region(router, tokens, i):
    """(B, M, N, d) -> sender i's (B, d): its module's tokens pooled by its query, or their mean."""
    return _attention_pool(router.image_query[i], tokens[:, i]) if router.attention else tokens[:, i].mean(1)


class MSR(nn.Module):
    """Modality-specific routing, per sender: an image router and a text router whose
    distributions are combined. The image MLP reads the sender's tokens pooled (`pool`), the
    text MLP reads s (with words: [s; words pooled by a learned query])."""

    def __init__(self, dim, senders, receivers, final, cfg):
        super().__init__()
        hidden = int(cfg.get("hidden", 256))
        self.final = final
        self.combine = cfg.get("combine", "mean")
        _region_queries(self, dim, senders, cfg)
        self.words = bool(cfg.get("words", False))
        self.image = nn.ModuleList(_mlp(dim, hidden, receivers) for _ in range(senders))
        self.text = nn.ModuleList(_mlp(2 * dim if self.words else dim, hidden, receivers) for _ in range(senders))
        if self.words:
            self.text_query = nn.Parameter(torch.zeros(senders, dim))
        if self.combine == "gate":
            self.gate = nn.Parameter(torch.zeros(senders))

    def _text_input(self, words, mask, sentence, i):
        if not self.words:
            return sentence
        return torch.cat([sentence, _attention_pool(self.text_query[i], words, mask)], -1)

    def forward(self, tokens, words, mask, sentence):  # (B, M, N, d), (B, T, d), (B, T), (B, d) -> (B, M, R)
        a = _normalise(torch.stack([mlp(_pool_region(self, tokens, i)) for i, mlp in enumerate(self.image)], 1), self.final)
        b = _normalise(
            torch.stack([mlp(self._text_input(words, mask, sentence, i)) for i, mlp in enumerate(self.text)], 1), self.final
        )
        if self.combine == "mean":
            return (a + b) / 2
        if self.combine == "product":
            p = a * b
            return p / p.sum(1 if self.final else -1, keepdim=True)
        if self.combine == "gate":  # one learned gate per sender, sigma(0) = 1/2 at the start
            g = torch.sigmoid(self.gate)[None, :, None]
            p = g * a + (1 - g) * b  # hidden rows still sum to 1; the last column needs renormalising
            return p / p.sum(1, keepdim=True) if self.final else p
        raise ValueError(f"msr combine {self.combine!r}: expected mean, product or gate")


class SharedRouter(nn.Module):
    """Modality-agnostic routing: per sender, one MLP on concat(pooled x, s), pooled as MSR pools."""

    def __init__(self, dim, senders, receivers, final, cfg):
        super().__init__()
        hidden = int(cfg.get("hidden", 256))
        self.final = final
        _region_queries(self, dim, senders, cfg)
        self.mlps = nn.ModuleList(_mlp(2 * dim, hidden, receivers) for _ in range(senders))

    def forward(self, tokens, words, mask, sentence):
        logits = torch.stack([mlp(torch.cat([_pool_region(self, tokens, i), sentence], -1)) for i, mlp in enumerate(self.mlps)], 1)
        return _normalise(logits, self.final)


class StaticRouter(nn.Module):
    """Uniform routing, no parameters."""

    def __init__(self, dim, senders, receivers, final, cfg):
        super().__init__()
        self.shape = (senders, receivers)
        self.final = final

    def forward(self, tokens, words, mask, sentence):
        m, r = self.shape
        return tokens.new_full((tokens.shape[0], m, r), 1.0 / (m if self.final else r))


ROUTERS = {"msr": MSR, "shared": SharedRouter, "static": StaticRouter}


class FusionLayer(nn.Module):
    def __init__(self, dim, module_cfgs, receivers, final, router_cfg):
        super().__init__()
        self.modules_ = nn.ModuleList(MODULES[c["type"]](dim, c) for c in module_cfgs)
        kind = router_cfg.get("type", "msr")
        if kind not in ROUTERS:
            raise ValueError(f"router {kind!r}: the reference knows {sorted(ROUTERS)}")
        self.router = ROUTERS[kind](dim, len(module_cfgs), receivers, final, router_cfg)


class Fusion(nn.Module):
    """L layers x M modules; layer 1 takes X, module j of layer l+1 takes
    sum_i p_{i->j} y_i; the output is f = sum_i w_i y^L_i."""

    def __init__(self, dim, cfg):
        super().__init__()
        mods = [m if isinstance(m, dict) else {"type": m} for m in cfg["modules"]]
        for m in mods:
            if m["type"] not in MODULES:
                raise ValueError(f"module {m['type']!r}: the reference knows {sorted(MODULES)}")
        count = int(cfg.get("layers", 3))
        router = cfg.get("router", {"type": "msr"})
        router = router if isinstance(router, dict) else {"type": router}
        self.layers = nn.ModuleList(
            FusionLayer(dim, mods, 1 if l == count - 1 else len(mods), l == count - 1, router) for l in range(count)
        )

    def forward(self, x, words, mask, sentence, pooled=None):
        """-> f (B, N, d), paths [(B, M, M)] * (L-1) + [(B, M, 1)], last layer's pooled inputs (B, M, d).
        pooled (B, d): the image encoder's pooled embedding, what layer 1's modules get as theirs
        (default: the mean of x); later layers' modules get the mean of their inputs."""
        m = len(self.layers[0].modules_)
        inputs = x[:, None].expand(-1, m, -1, -1)  # (B, M, N, d)
        pooled_inputs = (x.mean(1) if pooled is None else pooled)[:, None].expand(-1, m, -1)  # (B, M, d)
        paths = []
        for layer in self.layers:
            last_inputs = inputs.mean(2)
            y = torch.stack(
                [mod(inputs[:, j], words, mask, sentence, pooled_inputs[:, j]) for j, mod in enumerate(layer.modules_)], 1
            )
            p = layer.router(y, words, mask, sentence)  # (B, M, R)
            paths.append(p)
            inputs = torch.einsum("bij,bind->bjnd", p, y)  # the last layer: R = 1 -> f
            pooled_inputs = inputs.mean(2)
        return inputs[:, 0], paths, last_inputs
