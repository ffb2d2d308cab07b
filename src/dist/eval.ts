// Evaluation sharded over the ranks: the gallery and query batches of a single-process
// evaluation are dealt round-robin (batch k to rank k mod N), each rank embeds its batches
// exactly as one process would (same batches, same batch size), the embeddings are gathered
// and every rank ranks them. So the metrics equal a single-process evaluation's exactly.
import * as tf from "@tensorflow/tfjs";
import type { BatchLoader, EvalSet } from "../data/types.js";
import { embedGallery, embedQueries, type RetrievalNetwork } from "../eval/embed.js";
import type { EvaluateOptions } from "../eval/evaluate.js";
import { recallMetrics, type SetRanks } from "../eval/protocols.js";
import { positiveRanks } from "../eval/retrieval.js";
import type { DistGroup } from "./group.js";

type Loader = Pick<BatchLoader, "images" | "texts">;

/** The [start, end) item ranges of the batches rank `rank` of `world` embeds. */
export function batchesOf(count: number, batchSize: number, rank: number, world: number): [number, number][] {
  const mine: [number, number][] = [];
  for (let k = 0, start = 0; start < count; k++, start += batchSize) {
    if (k % world === rank) mine.push([start, Math.min(count, start + batchSize)]);
  }
  return mine;
}

/** (count, d): rows embedded by `embed` over this rank's batches, gathered from every rank in item order. */
export async function gatherRows(
  group: DistGroup,
  count: number,
  batchSize: number,
  embed: (start: number, end: number) => Promise<tf.Tensor2D>,
): Promise<tf.Tensor2D> {
  const parts: Float32Array[] = [];
  let width = 0;
  for (const [start, end] of batchesOf(count, batchSize, group.rank, group.world)) {
    const rows = await embed(start, end);
    width = rows.shape[1];
    parts.push((await rows.data()) as Float32Array);
    rows.dispose();
  }
  // Element 0 carries the embedding width: a rank without batches learns it from the others.
  const local = new Float32Array(1 + parts.reduce((n, p) => n + p.length, 0));
  local[0] = width;
  parts.reduce((at, p) => (local.set(p, at), at + p.length), 1);
  const byRank = group.allgather(local);
  width = Math.max(...byRank.map((r) => r[0]!));
  const all = new Float32Array(count * width);
  const offset = new Array<number>(group.world).fill(1);
  for (let k = 0, start = 0; start < count; k++, start += batchSize) {
    const r = k % group.world;
    const n = (Math.min(count, start + batchSize) - start) * width;
    all.set(byRank[r]!.subarray(offset[r]!, offset[r]! + n), start * width);
    offset[r]! += n;
  }
  return tf.tensor2d(all, [count, width]);
}

/** Metric name → percent, as src/eval/evaluate.ts `evaluate`, with the embedding work shared by the ranks. */
export async function evaluateSharded(
  group: DistGroup,
  net: RetrievalNetwork,
  loader: Loader,
  sets: readonly EvalSet[],
  opts: EvaluateOptions,
): Promise<Record<string, number>> {
  const b = opts.batchSize;
  const ranked: SetRanks[] = [];
  for (const set of sets) {
    const gallery = await gatherRows(group, set.gallery.length, b, (s, e) => embedGallery(net, loader, set.gallery.slice(s, e), b));
    let queries: tf.Tensor2D | undefined;
    try {
      queries = await gatherRows(group, set.queries.length, b, (s, e) => embedQueries(net, loader, set.queries.slice(s, e), b));
      ranked.push({ name: set.name, ranks: await positiveRanks(queries, gallery, set.queries) });
    } finally {
      gallery.dispose();
      queries?.dispose();
    }
  }
  return recallMetrics(ranked, opts.ks);
}
