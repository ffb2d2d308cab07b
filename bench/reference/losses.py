"""The three SDFN losses (docs/model.md §5): total = sum of weight * loss."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class BatchClassification(nn.Module):
    """TIRG's batch-based classification: q and t L2-normalised, both scaled by
    a learnable s (init 4, logits 16 cos); cross-entropy of q_i over the batch's t_j, label i."""

    def __init__(self, cfg):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(float(cfg.get("scale", 4.0))))

    def forward(self, out, teacher=None):
        q = F.normalize(out["query"], dim=-1) * self.scale
        t = F.normalize(out["target"], dim=-1) * self.scale
        logits = q @ t.t()
        return F.cross_entropy(logits, torch.arange(q.shape[0]))


def _distance(a, b, kind):
    if kind == "cosine":
        return (1 - F.cosine_similarity(a, b, dim=-1)).mean()
    if kind == "l2":  # squared Euclidean distance divided by d
        return (a - b).pow(2).mean(-1).mean()
    raise ValueError(f"consistency distance {kind!r}: expected cosine or l2")


class Consistency(nn.Module):
    """dist(f_bar, t) + dist(f_bar, sum of the pooled inputs of the last layer)."""

    def __init__(self, cfg):
        super().__init__()
        self.distance = str(cfg.get("distance", "cosine")).lower()

    def forward(self, out, teacher=None):
        q = out["query"]
        return _distance(q, out["target"], self.distance) + _distance(q, out["last_inputs"].sum(1), self.distance)


class PathDistillation(nn.Module):
    """tau^2 KL(softmax(log p_teacher / tau) || softmax(log p / tau)), summed over a
    sample's distributions, averaged over the samples that have a teacher; zero without one."""

    def __init__(self, cfg):
        super().__init__()
        self.tau = float(cfg.get("temperature", 4.0))

    def forward(self, out, teacher=None):
        if teacher is None:
            return out["query"].new_zeros(())
        teacher, has = teacher if isinstance(teacher, tuple) else (teacher, None)  # has: (B) 1 = has a teacher
        eps = 1e-8  # log of a zero probability stays finite
        total = 0.0
        last = len(out["paths"]) - 1
        for l, (p, pt) in enumerate(zip(out["paths"], teacher)):
            axis = 1 if l == last else -1  # the last layer's w is a distribution over the senders
            log_s = F.log_softmax(torch.log(p + eps) / self.tau, axis)
            log_t = F.log_softmax(torch.log(pt + eps) / self.tau, axis)
            total = total + (log_t.exp() * (log_t - log_s)).sum((1, 2))  # (B,)
        if has is None:
            return self.tau**2 * total.mean()
        return self.tau**2 * (total * has).sum() / has.sum().clamp(min=1)


LOSSES = {"batch_classification": BatchClassification, "consistency": Consistency, "path_distillation": PathDistillation}
