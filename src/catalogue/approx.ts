// The approximate index for catalogues past a few million items: an HNSW graph from usearch
// (chosen over hnswlib-node and faiss-node by bench/index-search.ts: prebuilt binaries in its
// package, and the best recall at equal speed there) over the same rows as embeddings.npy,
// keyed by row number, inner-product metric (rows are L2-normalised: the score is the cosine).
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Index, MetricKind } from "usearch";
import type { Embeddings } from "../infer/model.js";
import type { ApproxMeta } from "./files.js";

/** HNSW settings: more connectivity and expansion give more recall for more time and memory. */
export interface ApproxSettings {
  connectivity: number;
  expansion_add: number;
  expansion_search: number;
}

export const APPROX_DEFAULTS: ApproxSettings = { connectivity: 16, expansion_add: 128, expansion_search: 128 };

/** usearch's version, from its package.json (its exports do not list that file: found from its entry point). */
function usearchVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve("usearch"));
  while (!existsSync(join(dir, "package.json")) || (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string }).name !== "usearch") {
    if (dirname(dir) === dir) return "unknown";
    dir = dirname(dir);
  }
  return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
}

/** One query's best rows and scores, best first. */
export interface RowHits {
  rows: number[];
  scores: number[];
}

/** An HNSW index over a matrix of rows. */
export class ApproxIndex {
  private constructor(
    private readonly index: Index,
    readonly meta: ApproxMeta,
  ) {}

  /** Builds the graph over `rows` (every row, keyed 0 … count−1). */
  static build(rows: Embeddings, s: ApproxSettings = APPROX_DEFAULTS): ApproxIndex {
    const index = new Index({ dimensions: rows.dim, metric: MetricKind.IP, connectivity: s.connectivity, expansion_add: s.expansion_add, expansion_search: s.expansion_search } as never);
    if (rows.count > 0) index.add(BigUint64Array.from({ length: rows.count }, (_, i) => BigInt(i)), rows.data);
    const settings = { connectivity: s.connectivity, expansion_add: s.expansion_add, expansion_search: s.expansion_search };
    return new ApproxIndex(index, { library: "usearch", version: usearchVersion(), metric: "ip", ...settings });
  }

  /** The index saved at `file` (memory-mapped, not copied), built with `meta`'s settings. */
  static open(file: string, meta: ApproxMeta, dim: number): ApproxIndex {
    const index = new Index({ dimensions: dim, metric: MetricKind.IP, connectivity: meta.connectivity, expansion_add: meta.expansion_add, expansion_search: meta.expansion_search } as never);
    index.view(file);
    return new ApproxIndex(index, meta);
  }

  get size(): number {
    return this.index.size();
  }

  save(file: string): void {
    this.index.save(file);
  }

  /** The `k` best rows of each query (fewer when the index holds fewer). */
  search(queries: Embeddings, k: number): RowHits[] {
    const out: RowHits[] = [];
    const kk = Math.min(k, this.size);
    if (queries.count === 0 || kk === 0) return queries.count === 0 ? [] : Array.from({ length: queries.count }, () => ({ rows: [], scores: [] }));
    for (let q = 0; q < queries.count; q++) {
      const m = this.index.search(queries.data.subarray(q * queries.dim, (q + 1) * queries.dim), kk, 1); // one query: one thread
      const found = Math.min(kk, m.keys.length);
      const rows: number[] = [];
      const scores: number[] = [];
      for (let i = 0; i < found; i++) {
        rows.push(Number(m.keys[i]!));
        scores.push(1 - m.distances[i]!); // usearch's inner-product distance is 1 − q·t
      }
      out.push({ rows, scores });
    }
    return out;
  }
}
