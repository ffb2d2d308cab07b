// Benchmark (not a test): `sdfn serve` under load on loopback. A quickstart-size run (a few
// training steps: the network's size is what counts), a catalogue of N synthetic items (default
// 100k: normalised embeddings, one shared thumbnail), the server as its own process, and autocannon
// (bounded: a request count or a duration) POSTing uploaded 24-px PNG references with a text —
// decode + encode + exact search per query. Batched (--max-batch 32) against unbatched (1): latency
// of one connection, throughput and p99 of 16, and the server's resident memory before and after
// 10 000 queries.
//   npx tsx bench/serve.ts [--items 100000] [--seconds 10] [--connections 16] [--json]
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import sharp from "sharp";
import * as tf from "@tensorflow/tfjs";
import { writeIndex, type IndexItem } from "../src/catalogue/files.js";
import { openRun } from "../src/infer/model.js";
import { loadRecipe } from "../src/recipe/index.js";
import { train } from "../src/run/train.js";
import { Rng } from "../src/util/rng.js";

const { values } = parseArgs({
  options: {
    items: { type: "string", default: "100000" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "16" },
    json: { type: "boolean", default: false },
  },
});
tf.env().set("PROD", true);
const ROOT = join(import.meta.dirname, "..");
const scratch = mkdtempSync(join(tmpdir(), "sdfn-bench-serve-"));
const SMALL = ["data.train_pairs=64", "data.test_references=4", "data.test_edits=4", "data.test_queries=16", "evaluation.recall_at=[1,5]", "backend=auto"];

/** A quickstart-size run and an index of `n` synthetic items embedded "by" it. */
async function setUp(n: number) {
  const run = join(scratch, "run");
  await train(await loadRecipe(join(ROOT, "recipes/quickstart.yaml"), { sets: SMALL }), { outDir: run, onEvent: () => {} });
  const model = await openRun(run);
  const rng = new Rng(7);
  const dim = model.dim;
  const embeddings = Float32Array.from({ length: n * dim }, () => rng.normal());
  for (let i = 0; i < n; i++) {
    const row = embeddings.subarray(i * dim, (i + 1) * dim);
    const norm = Math.hypot(...row);
    for (let j = 0; j < dim; j++) row[j]! /= norm;
  }
  const thumb = await sharp({ create: { width: 24, height: 24, channels: 3, background: "#888" } }).png().toBuffer();
  const items: IndexItem[] = Array.from({ length: n }, (_, i) => ({ id: `synthetic/${i}`, path: null, thumb: [0, thumb.length], type: "image/png" }));
  const index = join(scratch, "index");
  const now = new Date().toISOString();
  await writeIndex(index, {
    meta: { format: "sdfn-index", version: 1, run: model.identity, dim, count: n, source: { images: "(synthetic)" }, thumbnail_size: 24, approx: null, created: now, updated: now },
    items,
    embeddings,
    thumbnails: [thumb],
  });
  model.close();
  return { run, index };
}

/** Starts `sdfn serve` as a child process; resolves with its URL. */
function serve(run: string, index: string, maxBatch: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(ROOT, "bin/sdfn.js"), "serve", run, "--index", index, "--port", "0", "--max-batch", String(maxBatch)], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /on (http:\/\/[\d.]+:\d+)\//.exec(out);
      if (m) resolve({ url: m[1]!, child });
    });
    child.once("exit", (code) => reject(new Error(`sdfn serve exited ${code}`)));
  });
}

const rss = async (url: string) => ((await (await fetch(`${url}/health`)).json()) as { memory: { rss: number } }).memory.rss / 2 ** 20;

async function load(url: string, body: string, o: { connections: number; duration?: number; amount?: number }) {
  const bound = o.amount !== undefined ? { amount: o.amount } : { duration: o.duration! };
  const r = await autocannon({ url: `${url}/query`, method: "POST", headers: { "content-type": "application/json" }, body, connections: o.connections, timeout: 30, ...bound });
  return { requests_per_s: r.requests.average, p50_ms: r.latency.p50, p99_ms: r.latency.p99, errors: r.errors + r.non2xx, total: r.requests.total };
}

const n = Number(values.items);
const { run, index } = await setUp(n);
const png = await sharp({ create: { width: 24, height: 24, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toBuffer();
const body = JSON.stringify({ image: png.toString("base64"), text: "make the red square blue", k: 10 });
const results: Record<string, unknown>[] = [];
try {
  for (const maxBatch of [32, 1]) {
    const { url, child } = await serve(run, index, maxBatch);
    try {
      await load(url, body, { connections: 1, amount: 50 }); // warm-up: the compiled forward records its shapes
      const one = await load(url, body, { connections: 1, duration: Number(values.seconds) });
      const many = await load(url, body, { connections: Number(values.connections), duration: Number(values.seconds) });
      const before = await rss(url);
      const soak = await load(url, body, { connections: Number(values.connections), amount: 10_000 });
      const after = await rss(url);
      const row = { max_batch: maxBatch, items: n, one_connection: one, [`${values.connections}_connections`]: many, soak_10000: { ...soak, rss_before_mib: before, rss_after_mib: after } };
      results.push(row);
      if (!values.json) process.stdout.write(`${JSON.stringify(row)}\n`);
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
