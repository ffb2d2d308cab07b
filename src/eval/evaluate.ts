// Recall@K of a network on a dataset's evaluation sets (the protocols of DESIGN §3).
import * as tf from "@tensorflow/tfjs";
import type { BatchLoader, EvalSet } from "../data/types.js";
import { embedGallery, embedQueries, type RetrievalNetwork } from "./embed.js";
import { recallMetrics, type SetRanks } from "./protocols.js";
import { positiveRanks } from "./retrieval.js";

export interface EvaluateOptions {
  /** K values, e.g. [10, 50]. */
  ks: readonly number[];
  batchSize: number;
}

/** Ranks of every query of `set`: embeds its gallery and queries, excludes the reference. */
export async function rankSet(
  net: RetrievalNetwork,
  loader: Pick<BatchLoader, "images" | "texts">,
  set: EvalSet,
  batchSize: number,
): Promise<SetRanks> {
  const gallery = await embedGallery(net, loader, set.gallery, batchSize);
  let queries: tf.Tensor2D | undefined;
  try {
    queries = await embedQueries(net, loader, set.queries, batchSize);
    return { name: set.name, ranks: await positiveRanks(queries, gallery, set.queries) };
  } finally {
    gallery.dispose();
    queries?.dispose();
  }
}

/** Metric name → percent ("dress/R@10", "avg/R@10", "avg/mean", …). */
export async function evaluate(
  net: RetrievalNetwork,
  loader: Pick<BatchLoader, "images" | "texts">,
  sets: readonly EvalSet[],
  opts: EvaluateOptions,
): Promise<Record<string, number>> {
  const ranked: SetRanks[] = [];
  for (const set of sets) ranked.push(await rankSet(net, loader, set, opts.batchSize));
  return recallMetrics(ranked, opts.ks);
}
