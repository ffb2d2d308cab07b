// Metrics of the dataset protocols (docs/datasets.md) from per-set ranks. The data layer
// encodes each protocol in its EvalSets (gallery, positives, excluded reference):
// FashionIQ val/original give one set per category, Shoes one set, Fashion200k
// one set whose positives are every gallery image with the target's description.
// Names: "<set>/R@K", "<set>/mean" (mean over K), and "avg/R@K", "avg/mean"
// averaged over the sets (FashionIQ's category averages and their mean).
import { recallAt } from "./retrieval.js";

export interface SetRanks {
  name: string;
  ranks: number[];
}

/** Metric name → percent. */
export function recallMetrics(sets: readonly SetRanks[], ks: readonly number[]): Record<string, number> {
  const metrics: Record<string, number> = {};
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  for (const set of sets) {
    for (const k of ks) metrics[`${set.name}/R@${k}`] = recallAt(set.ranks, k);
    metrics[`${set.name}/mean`] = mean(ks.map((k) => metrics[`${set.name}/R@${k}`]!));
  }
  for (const k of ks) metrics[`avg/R@${k}`] = mean(sets.map((s) => metrics[`${s.name}/R@${k}`]!));
  metrics["avg/mean"] = mean(ks.map((k) => metrics[`avg/R@${k}`]!));
  return metrics;
}

/** The summary's `recall` object: {"R@10": …, "R@50": …, "mean": …} from the set averages. */
export function summaryRecall(metrics: Record<string, number>, ks: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ks) out[`R@${k}`] = metrics[`avg/R@${k}`] ?? 0;
  out.mean = metrics["avg/mean"] ?? 0;
  return out;
}
