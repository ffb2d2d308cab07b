// Benchmark (not a test): query latency of a catalogue index at 10k, 100k and 1M items — exact
// search (one product + top K on the tfjs backend, src/catalogue/search.ts) against the approximate
// HNSW graph (usearch, src/catalogue/approx.ts) — and the approximate search's recall@10 against
// exact. Embeddings are synthetic: L2-normalised draws around 1000 cluster centres (a catalogue is
// clustered, which is what makes an HNSW graph's job realistic), queries are perturbed rows.
// hnswlib-node, a candidate not kept as a dependency, is measured too when --hnswlib names a folder
// where it is installed (npm install hnswlib-node@3.0.0 there).
//   npx tsx bench/index-search.ts [--sizes 10000,100000,1000000] [--dim 32] [--queries 200] [--backend auto] [--hnswlib DIR] [--json]
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../src/backend/index.js";
import { ApproxIndex, APPROX_DEFAULTS } from "../src/catalogue/approx.js";
import { columnsOf, exactTopK } from "../src/catalogue/search.js";
import { Rng } from "../src/util/rng.js";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "10000,100000,1000000" },
    dim: { type: "string", default: "32" },
    queries: { type: "string", default: "200" },
    backend: { type: "string", default: "auto" },
    hnswlib: { type: "string" },
    connectivity: { type: "string" },
    "expansion-search": { type: "string" },
    json: { type: "boolean", default: false },
  },
});
tf.env().set("PROD", true);
const dim = Number(values.dim);
const settings = {
  ...APPROX_DEFAULTS,
  ...(values.connectivity ? { connectivity: Number(values.connectivity) } : {}),
  ...(values["expansion-search"] ? { expansion_search: Number(values["expansion-search"]) } : {}),
};
const K = 10;

function normalise(v: Float32Array, dim: number): void {
  for (let i = 0; i < v.length; i += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += v[i + j]! ** 2;
    const n = Math.sqrt(s) || 1;
    for (let j = 0; j < dim; j++) v[i + j]! /= n;
  }
}

/** n rows around 1000 centres (spread 0.35), normalised. */
function catalogue(n: number, rng: Rng): Float32Array {
  const centres = Float32Array.from({ length: 1000 * dim }, () => rng.normal());
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = rng.int(1000);
    for (let j = 0; j < dim; j++) out[i * dim + j] = centres[c * dim + j]! + 0.35 * rng.normal();
  }
  normalise(out, dim);
  return out;
}

/** Queries: rows of the catalogue, perturbed (a query is near, not on, a catalogue item). */
function queriesOf(rows: Float32Array, n: number, count: number, rng: Rng): Float32Array {
  const out = new Float32Array(count * dim);
  for (let q = 0; q < count; q++) {
    const r = rng.int(n);
    for (let j = 0; j < dim; j++) out[q * dim + j] = rows[r * dim + j]! + 0.2 * rng.normal();
  }
  normalise(out, dim);
  return out;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

/** One query at a time: per-query milliseconds and the rows found. */
async function timeEach(count: number, search: (q: number) => Promise<number[]> | number[]) {
  const ms: number[] = [];
  const found: number[][] = [];
  for (let q = 0; q < count; q++) {
    const start = performance.now();
    found.push(await search(q));
    ms.push(performance.now() - start);
  }
  return { p50: pct(ms, 0.5), p99: pct(ms, 0.99), found };
}

const recall = (exact: number[][], approx: number[][]) => {
  let hit = 0;
  exact.forEach((rows, q) => {
    const got = new Set(approx[q]);
    for (const r of rows) if (got.has(r)) hit++;
  });
  return hit / (exact.length * K);
};

interface HnswLib {
  HierarchicalNSW: new (space: string, dim: number) => {
    initIndex(max: number, m: number, ef: number, seed: number): void;
    addPoint(v: number[] | Float32Array, label: number): void;
    setEf(ef: number): void;
    searchKnn(v: number[] | Float32Array, k: number): { neighbors: number[] };
  };
}

const backend = await useBackend(values.backend!);
const rows: Record<string, unknown>[] = [];
for (const n of values.sizes!.split(",").map(Number)) {
  const rng = new Rng(n);
  const data = catalogue(n, rng);
  const count = Number(values.queries);
  const queries = queriesOf(data, n, count, rng);
  const one = (q: number) => ({ count: 1, dim, data: queries.subarray(q * dim, (q + 1) * dim) });
  const matrix = columnsOf({ count: n, dim, data });
  await exactTopK(matrix, one(0), K); // warm-up
  const exact = await timeEach(count, async (q) => (await exactTopK(matrix, one(q), K))[0]!.rows);
  matrix.dispose();
  let start = performance.now();
  const approx = ApproxIndex.build({ count: n, dim, data }, settings);
  const buildS = (performance.now() - start) / 1000;
  const hnsw = await timeEach(count, (q) => approx.search(one(q), K)[0]!.rows);
  const row: Record<string, unknown> = {
    items: n,
    dim,
    backend: backend.name,
    settings,
    exact_p50_ms: exact.p50,
    exact_p99_ms: exact.p99,
    usearch_build_s: buildS,
    usearch_p50_ms: hnsw.p50,
    usearch_p99_ms: hnsw.p99,
    usearch_recall_at_10: recall(exact.found, hnsw.found),
  };
  if (values.hnswlib) {
    const lib = createRequire(join(values.hnswlib, "package.json"))("hnswlib-node") as HnswLib;
    start = performance.now();
    const index = new lib.HierarchicalNSW("ip", dim);
    index.initIndex(n, settings.connectivity, settings.expansion_add, 100);
    for (let i = 0; i < n; i++) index.addPoint(Array.from(data.subarray(i * dim, (i + 1) * dim)), i);
    row.hnswlib_build_s = (performance.now() - start) / 1000;
    index.setEf(settings.expansion_search);
    const h = await timeEach(count, (q) => index.searchKnn(Array.from(queries.subarray(q * dim, (q + 1) * dim)), K).neighbors);
    Object.assign(row, { hnswlib_p50_ms: h.p50, hnswlib_p99_ms: h.p99, hnswlib_recall_at_10: recall(exact.found, h.found) });
  }
  rows.push(row);
  if (!values.json) process.stdout.write(`${JSON.stringify(row)}\n`);
}
if (values.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
