// Retrievals to look at: for a few queries of an evaluation set that the model gets right
// (the target in its top K) and a few it misses, the top K gallery images with scores,
// the rank of the true target and the query's routing path (every layer's distributions).
import * as tf from "@tensorflow/tfjs";
import type { BatchLoader, EvalSet } from "../data/types.js";
import { inference } from "../nn/context.js";
import type { Network } from "../graph/compile.js";
import { embedGallery, embedQueries } from "./embed.js";
import { positiveRanks, topK } from "./retrieval.js";

export interface Retrieved {
  id: string;
  score: number;
  /** A true target of the query. */
  hit: boolean;
}

export interface RetrievalExample {
  set: string;
  /** Index of the query in its set. */
  query: number;
  reference: string;
  text: string;
  targets: string[];
  /** 0-based rank of the best-ranked target (Infinity → null in JSON: none left). */
  rank: number | null;
  top: Retrieved[];
  /** Per fusion layer, (M, R): row i = sender i's distribution (the last layer: the output weights w, R = 1). */
  paths: number[][][];
}

export interface ExampleOptions {
  k: number;
  hits: number;
  misses: number;
  /** Look at the set's first `scan` queries only (ranking all of them costs an evaluation). */
  scan: number;
  batchSize: number;
}

type PathNetwork = Pick<Network, "encodeQuery" | "encodeTarget">;

/** The routing paths of chosen queries, (M, R) per layer each. */
async function pathsOf(net: PathNetwork, loader: Pick<BatchLoader, "images" | "texts">, queries: readonly { reference: string; text: string }[]) {
  if (queries.length === 0) return [];
  const reference = await loader.images(queries.map((q) => q.reference), { train: false });
  const { tokens, mask } = loader.texts(queries.map((q) => q.text));
  try {
    const out = net.encodeQuery({ reference, tokens, mask }, inference);
    const layers = await Promise.all(out.paths.map((p) => p.array()));
    tf.dispose([out.query, out.tokens, out.lastInputs, ...out.paths]);
    return queries.map((_, b) => layers.map((layer) => layer[b]!));
  } finally {
    tf.dispose([reference, tokens, mask]);
  }
}

/** Up to `hits` queries with a target in the top K and `misses` without, from the first `scan` of `set`, in query order. */
export async function retrievalExamples(
  net: PathNetwork,
  loader: Pick<BatchLoader, "images" | "texts">,
  set: EvalSet,
  opts: ExampleOptions,
): Promise<RetrievalExample[]> {
  const scanned = set.queries.slice(0, opts.scan);
  const gallery = await embedGallery(net, loader, set.gallery, opts.batchSize);
  let queries: tf.Tensor2D | undefined;
  try {
    queries = await embedQueries(net, loader, scanned, opts.batchSize);
    const ranks = await positiveRanks(queries, gallery, scanned);
    const hits = ranks.flatMap((r, i) => (r < opts.k ? [i] : [])).slice(0, opts.hits);
    const misses = ranks.flatMap((r, i) => (r >= opts.k ? [i] : [])).slice(0, opts.misses);
    const chosen = [...hits, ...misses];
    const tops = await topK(queries, gallery, scanned, opts.k);
    const paths = await pathsOf(net, loader, chosen.map((i) => scanned[i]!));
    return chosen.map((i, c) => {
      const q = scanned[i]!;
      const positives = new Set(q.positives);
      return {
        set: set.name,
        query: i,
        reference: q.reference,
        text: q.text,
        targets: q.positives.map((p) => set.gallery[p]!),
        rank: Number.isFinite(ranks[i]!) ? ranks[i]! : null,
        top: tops[i]!.map(({ index, score }) => ({ id: set.gallery[index]!, score, hit: positives.has(index) })),
        paths: paths[c]!,
      };
    });
  } finally {
    gallery.dispose();
    queries?.dispose();
  }
}
