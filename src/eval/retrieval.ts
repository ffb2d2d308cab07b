// Cosine retrieval over a gallery: similarity of L2-normalised embeddings, the
// excluded items (the reference image) removed from each query's ranking, the
// rank of the first positive (for Recall@K) and the top-K list (for `sdfn query`).
import * as tf from "@tensorflow/tfjs";

/** Rows divided by their L2 norm: (n, d) → (n, d). */
export function normalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.norm(x, 2, 1, true).maximum(1e-12)) as tf.Tensor2D);
}

/** What one query needs for ranking: gallery indices to skip and (for recall) that count as hits. */
export interface RankQuery {
  exclude: readonly number[];
  positives?: readonly number[];
}

/**
 * Cosine similarities of `queries` (Q, d) to `gallery` (G, d), `chunk` queries at a
 * time; calls `visit(q, scores)` with a (G) row where excluded entries are −∞.
 */
export async function scanSimilarities(
  queries: tf.Tensor2D,
  gallery: tf.Tensor2D,
  excludeOf: (q: number) => readonly number[],
  visit: (q: number, scores: Float32Array) => void,
  chunk = 256,
): Promise<void> {
  const g = normalizeRows(gallery);
  try {
    const total = queries.shape[0];
    for (let start = 0; start < total; start += chunk) {
      const size = Math.min(chunk, total - start);
      const sims = tf.tidy(() => tf.matMul(normalizeRows(queries.slice([start, 0], [size, -1])), g, false, true));
      const data = (await sims.data()) as Float32Array;
      sims.dispose();
      const width = gallery.shape[0];
      for (let i = 0; i < size; i++) {
        const row = data.subarray(i * width, (i + 1) * width);
        for (const j of excludeOf(start + i)) if (j >= 0 && j < width) row[j] = -Infinity;
        visit(start + i, row);
      }
    }
  } finally {
    g.dispose();
  }
}

/**
 * 0-based rank of each query's best-scoring positive among the non-excluded
 * gallery items (the number of items scoring strictly higher); Infinity when
 * the query has no positive left.
 */
export async function positiveRanks(queries: tf.Tensor2D, gallery: tf.Tensor2D, list: readonly RankQuery[]): Promise<number[]> {
  const ranks = new Array<number>(list.length).fill(Infinity);
  await scanSimilarities(queries, gallery, (q) => list[q]!.exclude, (q, row) => {
    let best = -Infinity;
    for (const p of list[q]!.positives ?? []) if (row[p]! > best) best = row[p]!;
    if (best === -Infinity) return;
    let higher = 0;
    for (let j = 0; j < row.length; j++) if (row[j]! > best) higher++;
    ranks[q] = higher;
  });
  return ranks;
}

/** The k best gallery indices and scores per query, best first. */
export async function topK(
  queries: tf.Tensor2D,
  gallery: tf.Tensor2D,
  list: readonly RankQuery[],
  k: number,
): Promise<{ index: number; score: number }[][]> {
  const out: { index: number; score: number }[][] = [];
  await scanSimilarities(queries, gallery, (q) => list[q]?.exclude ?? [], (q, row) => {
    const order = Array.from(row.keys()).filter((j) => row[j] !== -Infinity);
    order.sort((a, b) => row[b]! - row[a]! || a - b);
    out[q] = order.slice(0, k).map((index) => ({ index, score: row[index]! }));
  });
  return out;
}

/** Recall@K in percent: the share of ranks below K. */
export function recallAt(ranks: readonly number[], k: number): number {
  if (ranks.length === 0) return 0;
  return (100 * ranks.filter((r) => r < k).length) / ranks.length;
}
