// Recall@K of a network on a dataset's evaluation sets (the protocols of docs/datasets.md),
// and for sets whose queries carry a kind, recall and the mean routing path per kind.
import * as tf from "@tensorflow/tfjs";
import type { BatchLoader, EvalSet } from "../data/types.js";
import { embedGallery, embedQueries, type RetrievalNetwork } from "./embed.js";
import { hasKinds, kindBreakdown, PathSums, type KindBreakdown } from "./kinds.js";
import { recallMetrics, type SetRanks } from "./protocols.js";
import { positiveRanks } from "./retrieval.js";

export interface EvaluateOptions {
  /** K values, e.g. [10, 50]. */
  ks: readonly number[];
  batchSize: number;
}

type Loader = Pick<BatchLoader, "images" | "texts">;

/** Ranks of every query of `set`: embeds its gallery and queries, excludes the reference; `paths` collects routing by kind. */
export async function rankSet(net: RetrievalNetwork, loader: Loader, set: EvalSet, batchSize: number, paths?: PathSums): Promise<SetRanks> {
  const gallery = await embedGallery(net, loader, set.gallery, batchSize);
  let queries: tf.Tensor2D | undefined;
  try {
    const onPaths = paths ? (start: number, layers: number[][][][]) => paths.add(set.queries.slice(start, start + layers[0]!.length).map((q) => q.kind), layers) : undefined;
    queries = await embedQueries(net, loader, set.queries, batchSize, onPaths);
    return { name: set.name, ranks: await positiveRanks(queries, gallery, set.queries) };
  } finally {
    gallery.dispose();
    queries?.dispose();
  }
}

export interface Evaluation {
  /** Metric name → percent ("dress/R@10", "avg/R@10", "avg/mean", …). */
  metrics: Record<string, number>;
  /** Set name → kind → recall and mean routing path, for sets whose queries carry a kind. */
  kinds: Record<string, KindBreakdown>;
}

/** Every set's recall, and the per-kind breakdown of the sets that have kinds. */
export async function evaluateDetailed(net: RetrievalNetwork, loader: Loader, sets: readonly EvalSet[], opts: EvaluateOptions): Promise<Evaluation> {
  const ranked: SetRanks[] = [];
  const kinds: Record<string, KindBreakdown> = {};
  for (const set of sets) {
    const paths = hasKinds(set.queries) ? new PathSums() : undefined;
    const result = await rankSet(net, loader, set, opts.batchSize, paths);
    ranked.push(result);
    if (paths) kinds[set.name] = kindBreakdown(set.queries, result.ranks, opts.ks, paths);
  }
  return { metrics: recallMetrics(ranked, opts.ks), kinds };
}

/** Metric name → percent ("dress/R@10", "avg/R@10", "avg/mean", …). */
export async function evaluate(net: RetrievalNetwork, loader: Loader, sets: readonly EvalSet[], opts: EvaluateOptions): Promise<Record<string, number>> {
  return (await evaluateDetailed(net, loader, sets, opts)).metrics;
}
