// Benchmark (not a test): inference speed of a network as `sdfn index` and `sdfn serve` run it
// (src/infer/model.ts: the target encoder in batches, the query encoder on one query; on torch the
// compiled forward), per tfjs backend, against PyTorch running the same network
// (bench/reference/embed.py) and onnxruntime-node running sdfn's ONNX export of it, in one run.
//   npx tsx bench/embed.ts [--recipe quickstart|paper] [--backends cpu,wasm,torch] [--images N] [--batch B] [--onnx] [--json]
// paper: recipes/sdfn-fashioniq.yaml (ResNet-50 at 224 px, d = 1024, LSTM on 300-d embeddings) from scratch.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../src/backend/index.js";
import { exportOnnx } from "../src/export/onnx.js";
import { RunModel } from "../src/infer/model.js";
import { loadRecipe } from "../src/recipe/index.js";
import { openSession } from "../src/run/session.js";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    recipe: { type: "string", default: "quickstart" },
    backends: { type: "string" },
    images: { type: "string" },
    batch: { type: "string" },
    queries: { type: "string", default: "20" },
    onnx: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
tf.env().set("PROD", true);
const paper = values.recipe === "paper";
const recipeFile = join(here, "..", "recipes", paper ? "sdfn-fashioniq.yaml" : "quickstart.yaml");
const sets = paper ? ["encoders.image.weights=null", "encoders.text.glove=null"] : [];
const images = Number(values.images ?? (paper ? 16 : 512));
const VOCABULARY = 3000;
const TEXT = 10;
const words = ["<pad>", "<unk>", ...Array.from({ length: VOCABULARY - 2 }, (_, i) => `w${i}`)];
const vocabulary = { size: VOCABULARY, words, encode: (t: string) => t.split(" ").map((w) => Math.max(2, words.indexOf(w))), toJSON: () => ({}) };

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

interface Row {
  name: string;
  target_images_per_s: number;
  query_p50_ms: number;
  query_p99_ms: number;
}

async function sdfnRow(backend: string, batch: number): Promise<{ row: Row; model: RunModel }> {
  const active = await useBackend(backend);
  const loaded = await loadRecipe(recipeFile, { sets });
  const session = await openSession(loaded, { dataset: false, vocabulary });
  const model = new RunModel({ run: "(bench)", checkpoint: "best", recipeHash: loaded.hash, weightsSha256: "-" }, loaded, vocabulary, session, active.name, () => {});
  const s = model.imageOptions.image_size;
  const pixels = tf.randomNormal([batch, s, s, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  for (let w = 0; w < 2; w++) await model.encodeTargets(pixels); // two captures: torch compiles the forward
  let start = performance.now();
  for (let done = 0; done < images; done += batch) await model.encodeTargets(pixels);
  const targetS = (performance.now() - start) / 1000;
  const reference = tf.randomNormal([1, s, s, 3], 0, 1, "float32", 2) as tf.Tensor4D;
  const text = [{ ids: Array.from({ length: TEXT }, (_, i) => 2 + i) }];
  for (let w = 0; w < 3; w++) await model.encodeQueries(reference, text);
  const ms: number[] = [];
  for (let q = 0; q < Number(values.queries); q++) {
    start = performance.now();
    await model.encodeQueries(reference, text);
    ms.push(performance.now() - start);
  }
  tf.dispose([pixels, reference]);
  const done = Math.ceil(images / batch) * batch;
  return { row: { name: `sdfn ${active.name}`, target_images_per_s: done / targetS, query_p50_ms: pct(ms, 0.5), query_p99_ms: pct(ms, 0.99) }, model };
}

function pytorchRow(batch: number, imageSize: number, recipe: unknown): Row {
  const dir = mkdtempSync(join(tmpdir(), "sdfn-bench-embed-"));
  try {
    writeFileSync(join(dir, "recipe.json"), JSON.stringify({ recipe, vocab_size: VOCABULARY }));
    const args = [join(here, "reference", "embed.py"), "--recipe", join(dir, "recipe.json"), "--image-size", String(imageSize), "--images", String(images), "--batch", String(batch), "--text-length", String(TEXT), "--queries", values.queries!];
    const r = spawnSync(process.env.SDFN_PYTHON ?? "/usr/bin/python3", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`bench/reference/embed.py failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as Row & { threads: number };
    return { ...out, name: `pytorch (${out.threads} threads)` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function onnxRow(model: RunModel, batch: number): Promise<Row> {
  const mod = await import("onnxruntime-node");
  const ort = (mod as unknown as { default?: typeof mod }).default ?? mod;
  const dir = mkdtempSync(join(tmpdir(), "sdfn-bench-onnx-"));
  try {
    await exportOnnx(model, join(dir, "onnx"), "bench");
    const opts = { logSeverityLevel: 3 as const };
    const target = await ort.InferenceSession.create(join(dir, "onnx", "target.onnx"), opts);
    const query = await ort.InferenceSession.create(join(dir, "onnx", "query.onnx"), opts);
    const s = model.imageOptions.image_size;
    const T = model.maxWords;
    const px = new ort.Tensor("float32", Float32Array.from({ length: batch * s * s * 3 }, (_, i) => Math.sin(i)), [batch, s, s, 3]);
    for (let w = 0; w < 2; w++) await target.run({ image: px });
    let start = performance.now();
    for (let done = 0; done < images; done += batch) await target.run({ image: px });
    const targetS = (performance.now() - start) / 1000;
    const tokens = new Int32Array(T);
    const mask = new Float32Array(T);
    for (let i = 0; i < TEXT; i++) (tokens[i] = 2 + i), (mask[i] = 1);
    const feeds = { reference: new ort.Tensor("float32", px.data.slice(0, s * s * 3) as Float32Array, [1, s, s, 3]), tokens: new ort.Tensor("int32", tokens, [1, T]), mask: new ort.Tensor("float32", mask, [1, T]) };
    for (let w = 0; w < 3; w++) await query.run(feeds);
    const ms: number[] = [];
    for (let q = 0; q < Number(values.queries); q++) {
      start = performance.now();
      await query.run(feeds);
      ms.push(performance.now() - start);
    }
    const done = Math.ceil(images / batch) * batch;
    return { name: "onnxruntime-node (cpu)", target_images_per_s: done / targetS, query_p50_ms: pct(ms, 0.5), query_p99_ms: pct(ms, 0.99) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const loaded = await loadRecipe(recipeFile, { sets });
const batch = Number(values.batch ?? loaded.recipe.evaluation.batch_size);
const imageSize = (loaded.recipe.data as unknown as { image_size: number }).image_size;
const backends = (values.backends ?? (paper ? "wasm,torch" : "cpu,wasm,torch")).split(",");
const rows: Row[] = [];
let onnxFrom: RunModel | undefined;
for (const backend of backends) {
  const { row, model } = await sdfnRow(backend, batch);
  rows.push(row);
  if (values.onnx && backend === backends.at(-1)) onnxFrom = model;
  else model.close();
}
rows.push(pytorchRow(batch, imageSize, loaded.recipe));
if (onnxFrom) {
  rows.push(await onnxRow(onnxFrom, batch));
  onnxFrom.close();
}
const torchRef = rows.find((r) => r.name.startsWith("pytorch"))!;
const table = rows.map((r) => ({
  ...r,
  target_vs_pytorch: r.target_images_per_s / torchRef.target_images_per_s,
  query_vs_pytorch: r.query_p50_ms / torchRef.query_p50_ms,
}));
const header = { recipe: values.recipe, image_size: imageSize, batch, images, text_words: TEXT };
if (values.json) process.stdout.write(`${JSON.stringify({ ...header, rows: table }, null, 2)}\n`);
else {
  process.stdout.write(`${JSON.stringify(header)}\n`);
  process.stdout.write(`${"".padEnd(28)}${"target images/s".padStart(16)}${"× PyTorch".padStart(11)}${"query p50 ms".padStart(14)}${"p99".padStart(9)}${"× PyTorch".padStart(11)}\n`);
  for (const r of table) {
    process.stdout.write(`${r.name.padEnd(28)}${r.target_images_per_s.toFixed(1).padStart(16)}${r.target_vs_pytorch.toFixed(2).padStart(11)}${r.query_p50_ms.toFixed(2).padStart(14)}${r.query_p99_ms.toFixed(2).padStart(9)}${r.query_vs_pytorch.toFixed(2).padStart(11)}\n`);
  }
}
