// `npm run bench`: sdfn on every available backend and the PyTorch reference, on the same
// recipe and the same seeded batch, in one run; prints a table (or JSON with --json).
// Each backend runs in its own child process so its peak RSS is its own: the peak over its timed
// training steps (the high-water mark is reset after setup, warm-up and, for a replay, the recorded
// eager steps), and the whole process's beside it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus as cpus_, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { backendStatus, setPrecision, useBackend } from "../src/backend/index.js";
import { readSafetensors, writeSafetensors } from "../src/io/safetensors.js";
import { loadRecipe } from "../src/recipe/index.js";
import type { ForwardContext } from "../src/nn/context.js";
import { openSession } from "../src/run/session.js";
import { formatTable as alignedTable } from "../src/view/table.js";
import { compiledForward } from "../src/eval/compiled-forward.js";
import { compiledBench, kernelsPerStep } from "./compiled-step.js";
import { peakRssMiB, peakTensorMiB, processPeakRssMiB, resetPeakRss } from "./peak-memory.js";
import { evalContext, runBatch, syntheticBatch, toTensor, type PlainTensor } from "./reference/exchange.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The reference's python: SDFN_PYTHON (the GPU machine's), else Debian's (python3-torch). */
const PYTHON = process.env.SDFN_PYTHON ?? "/usr/bin/python3";
/** What runs one backend's worker: SDFN_BENCH_ENTRY (a bundled launcher, bench/device), else bin/bench.js. */
const WORKER_ENTRY = process.env.SDFN_BENCH_ENTRY ?? join(ROOT, "bin/bench.js");

export interface BenchOptions {
  batch: number;
  imageSize: number;
  dim: number;
  layers: number;
  encoder: string;
  text: string;
  modules: string[];
  router: string;
  textLength: number;
  vocab: number;
  steps: number;
  backends: string[] | null;
  reference: boolean;
  device: string;
  /** training.precision of the sdfn rows and torch.autocast of the reference: fp32 | bf16. */
  precision: "fp32" | "bf16";
  json: boolean;
}

/** One row of the table. */
export interface BenchRow {
  name: string;
  device: string;
  step_ms: number;
  samples_per_s: number;
  eval_queries_per_s: number;
  /** Peak resident set over the timed training steps (reset after setup, warm-up and a replay's recorded steps). */
  peak_rss_mib: number;
  /** Peak resident set of the whole process (sdfn's replay: including the recorded eager steps). */
  process_peak_rss_mib?: number;
  /**
   * Peak tensor bytes of one training step: the torch addon's allocator (every live ATen tensor,
   * parameters and optimizer state included); tfjs's tf.profile peakBytes on other backends;
   * PyTorch on CUDA: torch.cuda.max_memory_allocated.
   */
  peak_tensor_mib: number | null;
  parameters: number;
  /** torch: native kernels per step; the replayed row also its host µs per kernel (outside ATen). */
  kernels_per_step?: number;
  host_us_per_kernel?: number;
  /** step time / PyTorch step time (how many times slower than the reference). */
  ratio_to_pytorch?: number | null;
  error?: string;
}

const SMALL = { batch: 4, imageSize: 32, dim: 32, layers: 3, encoder: "small_cnn" };
const PAPER = { batch: 32, imageSize: 224, dim: 1024, layers: 3, encoder: "resnet50" };

export function parseOptions(argv: string[]): BenchOptions & { worker?: string; dir?: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      batch: { type: "string" },
      "image-size": { type: "string" },
      dim: { type: "string" },
      layers: { type: "string" },
      encoder: { type: "string" },
      text: { type: "string", default: "lstm" },
      modules: { type: "string", default: "JRM,CAM,GTM,RCM" },
      router: { type: "string", default: "msr" },
      "text-length": { type: "string", default: "8" },
      vocab: { type: "string", default: "1000" },
      steps: { type: "string", default: "2" },
      backends: { type: "string" },
      "no-reference": { type: "boolean", default: false },
      device: { type: "string", default: "auto" },
      precision: { type: "string", default: "fp32" },
      paper: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      worker: { type: "string" },
      dir: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) throw new HelpRequested();
  const base = values.paper ? PAPER : SMALL;
  const int = (flag: string, v: string | undefined, fallback: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new BenchUsageError(`--${flag} ${v}: expected a positive integer`);
    return n;
  };
  return {
    batch: int("batch", values.batch, base.batch),
    imageSize: int("image-size", values["image-size"], base.imageSize),
    dim: int("dim", values.dim, base.dim),
    layers: int("layers", values.layers, base.layers),
    encoder: values.encoder ?? base.encoder,
    text: values.text!,
    modules: values.modules!.split(",").map((m) => m.trim()),
    router: values.router!,
    textLength: int("text-length", values["text-length"], 8),
    vocab: int("vocab", values.vocab, 1000),
    steps: int("steps", values.steps, 2),
    backends: values.backends === "none" ? [] : values.backends ? values.backends.split(",") : null,
    reference: !values["no-reference"],
    device: values.device!,
    precision: precisionOf(values.precision!),
    json: values.json!,
    worker: values.worker,
    dir: values.dir,
  };
}

function precisionOf(v: string): "fp32" | "bf16" {
  if (v !== "fp32" && v !== "bf16") throw new BenchUsageError(`--precision ${v}: expected fp32 or bf16`);
  return v;
}

class HelpRequested extends Error {}
class BenchUsageError extends Error {}

const HELP = `usage: npm run bench -- [--batch N] [--image-size PX] [--dim D] [--layers L] [--encoder small_cnn|resnet18|resnet50|…]
                       [--text lstm|bilstm|gru|clip_text] [--modules JRM,CAM,GTM,RCM] [--router msr|shared|static] [--text-length T]
                       [--vocab V] [--steps N] [--backends cpu,torch,wasm,…|none] [--no-reference] [--device cpu|cuda|auto]
                       [--precision fp32|bf16] [--paper] [--json]
Runs sdfn on every available backend (or --backends) and the PyTorch reference (/usr/bin/python3,
bench/reference/bench.py; --device for it) on the same recipe and seeded batch; prints step time
(forward + backward + Adam), samples/s, evaluation queries/s, peak memory and the ratio to PyTorch.
Defaults: small_cnn, 32 px, batch 4, d 32, 3 layers × JRM,CAM,GTM,RCM, msr, lstm, 2 timed steps
(seconds per backend on 2 cores). --paper: resnet50, 224 px, batch 32, d 1024 (for real machines).
CLIP: --encoder clip_vit_b32 --text clip_text --image-size 224 --dim 512 (ViT-B/32's towers, random weights).`;

/** The text encoder entry: a recurrent one at width d, or CLIP's text transformer (ViT-B/32's, projected to d). */
const textEncoder = (o: BenchOptions) =>
  o.text === "clip_text" ? `{ type: clip_text, dim: ${o.dim} }` : `{ type: ${o.text}, hidden: ${o.dim}, embedding_dim: ${Math.min(300, o.dim)} }`;

/** The bench recipe as YAML: the paper's architecture at the chosen size. */
export function benchRecipe(o: BenchOptions): string {
  const heads = o.dim % 8 === 0 ? 8 : o.dim % 4 === 0 ? 4 : 1;
  const modules = o.modules.map((m) => (m === "JRM" || m === "CAM" ? `{ type: ${m}, heads: ${heads} }` : `{ type: ${m} }`));
  return [
    "version: 1",
    "name: bench",
    "seed: 0",
    `data: { dataset: shapes, image_size: ${o.imageSize} }`,
    "encoders:",
    `  image: { type: ${o.encoder}, dim: ${o.dim} }`,
    `  text: ${textEncoder(o)}`,
    `fusion: { layers: ${o.layers}, modules: [${modules.join(", ")}], router: { type: ${o.router} } }`,
    "losses: [{ type: batch_classification, weight: 1 }, { type: consistency, weight: 1 }, { type: path_distillation, weight: 1 }]",
    `training: { epochs: 1, batch_size: ${o.batch}, optimizer: { type: adam, lr: 0.0001, weight_decay: 0.00005 }${o.precision === "bf16" ? ", precision: bf16" : ""} }`,
    "",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  let o: ReturnType<typeof parseOptions>;
  try {
    o = parseOptions(argv);
  } catch (e) {
    if (e instanceof HelpRequested) {
      console.log(HELP);
      return 0;
    }
    console.error(`bench: error: ${(e as Error).message}\n${HELP}`);
    return 2;
  }
  if (o.worker) {
    try {
      return await worker(o.worker, o.dir!, o);
    } catch (err) {
      console.error(`Error: ${(err as Error).message}`); // one line for the table's notes
      return 1;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "sdfn-bench-"));
  try {
    return await orchestrate(o, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function orchestrate(o: BenchOptions, dir: string): Promise<number> {
  writeFileSync(join(dir, "bench.yaml"), benchRecipe(o));
  const loaded = await loadRecipe(join(dir, "bench.yaml"));
  const channels = o.encoder === "features" ? 2048 : 3;
  writeSafetensors(join(dir, "inputs.safetensors"), syntheticBatch({ batch: o.batch, imageSize: o.imageSize, channels, textLength: o.textLength, vocabSize: o.vocab, seed: 1 }));
  writeFileSync(join(dir, "recipe.json"), JSON.stringify({ recipe: loaded.recipe, vocab_size: o.vocab }));
  const statuses = await backendStatus();
  // torch gets a second row: the compiled step (recorded, then replayed natively).
  const wanted = (o.backends ?? statuses.filter((s) => s.available).map((s) => s.name)).flatMap((n) => (n === "torch" && !o.backends?.includes("torch+replay") ? [n, "torch+replay"] : [n]));
  const rows: BenchRow[] = [];
  const skipped = statuses.filter((s) => !s.available && !o.backends).map((s) => `${s.name}: ${s.why ?? "unavailable"}`);
  for (const name of wanted) rows.push(runWorker(name, dir, o));
  const reference = o.reference ? runReference(dir, o) : null;
  if (reference) rows.push(reference);
  const torchMs = reference && !reference.error ? reference.step_ms : null;
  for (const row of rows) row.ratio_to_pytorch = torchMs && Number.isFinite(row.step_ms) ? row.step_ms / torchMs : null;
  const config = { ...o, backends: wanted, machine: machine() };
  if (o.json) console.log(JSON.stringify({ config, rows, skipped }, null, 2));
  else console.log(formatTable(config, rows, skipped));
  return rows.some((r) => r.error && !knownLimit(r)) ? 1 : 0;
}

/** A backend's limit by design (tfjs-backend-wasm has no convolution filter gradient): a note in the table, not a failure. */
export const knownLimit = (r: BenchRow) => r.name.startsWith("sdfn/wasm") && /not registered for backend 'wasm'|Conv2DBackpropFilter/.test(r.error ?? "");

function machine(): string {
  const cpus = cpus_();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
}

function runWorker(name: string, dir: string, o: BenchOptions): BenchRow {
  const args = [WORKER_ENTRY, "--worker", name, "--dir", dir, ...forward(o)];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 24 });
  return parseRow(`sdfn/${name}`, r.status, r.stdout, r.stderr);
}

function runReference(dir: string, o: BenchOptions): BenchRow {
  const args = [join(ROOT, "bench/reference/bench.py"), "--recipe", join(dir, "recipe.json"), "--batch", join(dir, "inputs.safetensors"), "--steps", String(o.steps), "--device", o.device, "--precision", o.precision];
  const r = spawnSync(PYTHON, args, { encoding: "utf8", maxBuffer: 1 << 24, env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
  if (r.error) return failed("pytorch", `${PYTHON} could not run: ${r.error.message} (install python3-torch)`);
  const row = parseRow("pytorch", r.status, r.stdout, r.stderr) as BenchRow & { peak_device_mib?: number | null };
  if (!row.error) row.peak_tensor_mib = row.peak_device_mib ?? null;
  delete row.peak_device_mib;
  return row;
}

function parseRow(name: string, status: number | null, stdout: string, stderr: string): BenchRow {
  const line = stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (status !== 0 || !line) {
    const lines = stderr.trim().split("\n");
    const message = lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.slice(-3).join(" | ");
    return failed(name, (message || `exit ${status}`).slice(0, 300));
  }
  return { ...JSON.parse(line), name } as BenchRow;
}

const failed = (name: string, error: string): BenchRow => ({
  name,
  device: "-",
  step_ms: NaN,
  samples_per_s: NaN,
  eval_queries_per_s: NaN,
  peak_rss_mib: NaN,
  peak_tensor_mib: null,
  parameters: 0,
  error,
});

function forward(o: BenchOptions): string[] {
  return [
    "--batch", String(o.batch), "--image-size", String(o.imageSize), "--dim", String(o.dim), "--layers", String(o.layers),
    "--encoder", o.encoder, "--text", o.text, "--modules", o.modules.join(","), "--router", o.router,
    "--text-length", String(o.textLength), "--vocab", String(o.vocab), "--steps", String(o.steps), "--precision", o.precision,
  ];
}

/** The bench's batch as tensors (inputs as syntheticBatch writes them). */
export function benchBatch(inputs: Record<string, PlainTensor>) {
  return {
    reference: toTensor(inputs["input.reference"]!) as tf.Tensor4D,
    target: toTensor(inputs["input.target"]!) as tf.Tensor4D,
    tokens: toTensor(inputs["input.tokens"]!) as tf.Tensor2D,
    mask: toTensor(inputs["input.mask"]!) as tf.Tensor2D,
  };
}

// ── one backend, in its own process ──────────────────────────────────────────
async function worker(name: string, dir: string, o: BenchOptions): Promise<number> {
  tf.env().set("PROD", true);
  const [backendName, mode] = name.split("+");
  const { device } = await useBackend(backendName!);
  const loaded = await loadRecipe(join(dir, "bench.yaml"));
  setPrecision(loaded.recipe.training.precision);
  const words = Array.from({ length: o.vocab }, (_, i) => `w${i}`);
  const session = await openSession(loaded, { vocabulary: { size: o.vocab, words }, dataset: false });
  const { network, losses, optimizer } = session;
  const batch = benchBatch(readSafetensors(join(dir, "inputs.safetensors")).tensors as Record<string, PlainTensor>);
  // A cached teacher, as from epoch 2 on: the distillation cost is paid every step.
  const teacher = tf.tidy(() => network.encodeQuery(batch, evalContext).paths.map((p) => tf.keep(p)));
  const teacherMask = tf.ones([o.batch]) as tf.Tensor1D;
  const variables = optimizer.variables ?? new Map([...network.store.variables].filter(([, v]) => v.trainable));
  const lr = Number(loaded.registry.resolve("optimizer", loaded.recipe.training.optimizer, "training.optimizer").params.lr);
  let seed = 0;
  const train: ForwardContext = { training: true, seed: () => seed++ };
  const byName = new Map([...variables].map(([n, v]) => [v.name, n]));

  const step = async () => {
    const { value, grads } = tf.variableGrads(() => {
      const out = runBatch(network, losses, { ...batch, teacher, teacherMask }, train);
      return out["loss.total"] as tf.Scalar;
    }, [...variables.values()]);
    const named: Record<string, tf.Tensor> = {};
    for (const [k, g] of Object.entries(grads)) named[byName.get(k) ?? k] = g;
    optimizer.apply(named, lr);
    tf.dispose(Object.values(grads));
    await value.data();
    value.dispose();
  };
  // torch+replay: the evaluation forward is compiled too (src/eval/compiled-forward.ts; recorded twice, then replayed)
  const evalNet = (mode === "replay" && compiledForward(network, "replay", (message) => {
    throw new Error(`evaluation: ${message}`);
  })) || network;
  const evaluate = async () => {
    const best = tf.tidy(() => {
      const q = evalNet.encodeQuery(batch, evalContext).query;
      const t = evalNet.encodeTarget(batch.target, evalContext);
      const unit = (x: tf.Tensor2D) => tf.div(x, tf.norm(x, 2, 1, true));
      return tf.matMul(unit(q), unit(t), false, true).max();
    });
    await best.data();
    best.dispose();
  };
  // evaluation first: a backend that cannot train (missing gradient kernels) still gets its q/s
  if (evalNet !== network) await evaluate(); // the second recording (timed's warm-up builds the programs)
  const evalS = await timed(evaluate, o.steps);
  let stepS = NaN;
  let peakTensors = NaN;
  let peakRss = NaN;
  let error: string | undefined;
  let kernels: Pick<BenchRow, "kernels_per_step" | "host_us_per_kernel"> = {};
  try {
    if (mode === "replay") {
      const compiled = await compiledBench({ network, losses, optimizer, batch: { ...batch }, teacher, lr });
      resetPeakRss();
      stepS = await timed(compiled.step, o.steps);
      peakRss = peakRssMiB();
      peakTensors = await peakTensorMiB(compiled.step);
      const stats = compiled.stats();
      kernels = { kernels_per_step: stats.kernels, host_us_per_kernel: stats.hostMicrosPerKernel };
    } else {
      resetPeakRss();
      stepS = await timed(step, o.steps);
      peakRss = peakRssMiB();
      peakTensors = await peakTensorMiB(step);
      if (backendName === "torch") kernels = { kernels_per_step: await kernelsPerStep(step) };
    }
  } catch (err) {
    error = `training step: ${(err as Error).message}`;
  }
  const row: BenchRow = {
    name: `sdfn/${name}`,
    device,
    step_ms: stepS * 1e3,
    samples_per_s: o.batch / stepS,
    eval_queries_per_s: o.batch / evalS,
    peak_rss_mib: peakRss,
    process_peak_rss_mib: processPeakRssMiB(),
    peak_tensor_mib: peakTensors,
    parameters: [...variables.values()].reduce((n, v) => n + v.size, 0),
    ...kernels,
    ...(error ? { error } : {}),
  };
  console.log(JSON.stringify(row));
  return 0;
}

/** Mean seconds of fn over `repeats` runs after one warm-up run. */
async function timed(fn: () => Promise<void>, repeats: number): Promise<number> {
  await fn();
  const start = performance.now();
  for (let i = 0; i < repeats; i++) await fn();
  return (performance.now() - start) / 1e3 / repeats;
}

// ── the table ────────────────────────────────────────────────────────────────
function formatTable(config: BenchOptions & { machine: string }, rows: BenchRow[], skipped: string[]): string {
  const c = config;
  const head = `sdfn bench — ${c.encoder} ${c.imageSize}px, batch ${c.batch}, d ${c.dim}, ${c.layers} layers × [${c.modules.join(",")}], ${c.router}, ${c.text}; ${c.steps} steps; ${c.machine}`;
  const fmt = (v: number | null | undefined, digits = 1) => (v == null || Number.isNaN(v) ? "-" : v.toFixed(digits));
  const table = [
    ["run", "device", "params", "step ms", "samples/s", "eval q/s", "peak RSS MiB", "process MiB", "peak tensors MiB", "kernels", "host µs/k", "× PyTorch"],
    ...rows.map((r) => [
      r.name,
      r.device,
      r.parameters ? String(r.parameters) : "-",
      fmt(r.step_ms),
      fmt(r.samples_per_s, 2),
      fmt(r.eval_queries_per_s, 2),
      fmt(r.peak_rss_mib, 0),
      fmt(r.process_peak_rss_mib, 0),
      fmt(r.peak_tensor_mib, 0),
      fmt(r.kernels_per_step, 0),
      fmt(r.host_us_per_kernel, 2),
      r.ratio_to_pytorch == null ? "-" : `${r.ratio_to_pytorch.toFixed(1)}×`,
    ]),
  ];
  const lines = alignedTable(table[0]!, table.slice(1), { left: 2, rule: true });
  const notes = [
    ...rows.filter((r) => r.error).map((r) => `${r.name}: ${knownLimit(r) ? "cannot train here (a known limit of the backend, not a failure): " : ""}${r.error}`),
    ...skipped.map((s) => `skipped ${s}`),
  ];
  return [head, "", ...lines, ...(notes.length ? ["", ...notes] : [])].join("\n");
}

