// `sdfn index --check`: how well the approximate index stands in for exact search. Queries are
// a seeded sample of the catalogue's own embeddings (each leaving itself out); recall@K is the
// share of exact search's top K that the approximate search also returns, and both are timed.
import { Rng } from "../util/rng.js";
import type { Embeddings } from "../infer/model.js";
import type { CatalogueIndex } from "./search.js";

export interface CheckResult {
  queries: number;
  k: number;
  /** Share (0–1) of exact top-K items the approximate search found; null without an approximate index. */
  recall: number | null;
  /** Mean milliseconds per query, searched one at a time. */
  exactMs: number;
  approxMs: number | null;
}

/** Recall@K of the approximate search against exact over `sample` catalogue items (seeded), and both speeds. */
export async function checkIndex(index: CatalogueIndex, o: { k: number; sample: number; seed?: number }): Promise<CheckResult> {
  const n = Math.min(o.sample, index.count);
  const rows = new Rng(o.seed ?? 0).shuffle(Array.from({ length: index.count }, (_, i) => i)).slice(0, n);
  const k = Math.min(o.k, index.count - 1);
  const one = (row: number): Embeddings => ({ count: 1, dim: index.meta.dim, data: index.embedding(row) });
  const timed = async (approximate: boolean) => {
    const hits: Set<number>[] = [];
    const start = performance.now();
    for (const row of rows) hits.push(new Set((await index.search(one(row), { k, exclude: [[row]], approximate }))[0]!.map((h) => h.row)));
    return { hits, ms: (performance.now() - start) / Math.max(1, n) };
  };
  const exact = await timed(false);
  if (!index.meta.approx) return { queries: n, k, recall: null, exactMs: exact.ms, approxMs: null };
  const approx = await timed(true);
  let found = 0;
  exact.hits.forEach((want, q) => want.forEach((row) => (found += approx.hits[q]!.has(row) ? 1 : 0)));
  return { queries: n, k, recall: found / Math.max(1, n * k), exactMs: exact.ms, approxMs: approx.ms };
}
