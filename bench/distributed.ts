// Data-parallel throughput on one machine: training samples/s of 1 process × 2 ATen threads
// (batch 2b) against 2 processes × 1 thread (batch b each, Gloo over 127.0.0.1), same recipe
// and seed, each with eager steps and with replayed ones (training.compile: the 2-process
// program carries the allreduce), and the 2-process runs' time in collectives per step with its bytes.
//   npx tsx bench/distributed.ts [--batch 16] [--pairs 512] [--epochs 2] [--compile eager,replay]
// The runs start after each other; their samples/s come from the runs' own epoch events
// (training steps only, no evaluation). The allreduce time includes waits for the slower rank.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");

interface Measured {
  samplesPerSec: number;
  allreduceMs?: number;
  allreduceBytes?: number;
  /** The last epoch's compile counts (replay). */
  compiled?: { programs: number; replayed: number; eager: number };
}

type Compile = "eager" | "replay";

/** Trains the quickstart with `nproc` processes × `threads` threads; the last epoch's rate and per-step collectives. */
function measure(nproc: number, threads: number, compile: Compile, batch: number, pairs: number, epochs: number, dir: string): Measured {
  const out = join(dir, `run-${nproc}x${threads}-${compile}`);
  const args = [join(ROOT, "bin", "sdfn.js"), "build", join(ROOT, "recipes", "quickstart.yaml"), "--backend", "torch", "--out", out, "--log", "plain"];
  args.push("--set", `training.batch_size=${batch}`, "--set", `data.train_pairs=${pairs}`, "--set", `training.epochs=${epochs}`, "--set", `training.eval_every=${epochs}`);
  args.push("--set", `training.compile=${compile}`);
  if (nproc > 1) args.push("--nproc", String(nproc));
  const r = spawnSync(process.execPath, args, { env: { ...process.env, SDFN_TORCH_THREADS: String(threads), CI: "true" }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${nproc} × ${threads}: exit ${r.status}\n${r.stderr}`);
  const events = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, number | string>);
  const epoch = events.filter((e) => e.type === "epoch").at(-1)!;
  const steps = events.filter((e) => e.type === "step" && typeof e.allreduceMs === "number").slice(1); // the first step includes start-up
  const mean = (k: string) => steps.reduce((s, e) => s + Number(e[k]), 0) / Math.max(1, steps.length);
  const compiled = epoch.compiled as unknown as Measured["compiled"];
  return { samplesPerSec: Number(epoch.samplesPerSec), compiled, ...(steps.length ? { allreduceMs: mean("allreduceMs"), allreduceBytes: mean("allreduceBytes") } : {}) };
}

const { values } = parseArgs({ options: { batch: { type: "string" }, pairs: { type: "string" }, epochs: { type: "string" }, compile: { type: "string" } } });
const b = Number(values.batch ?? 16);
const pairs = Number(values.pairs ?? 512);
const epochs = Number(values.epochs ?? 2);
const dir = mkdtempSync(join(tmpdir(), "sdfn-bench-dist-"));
const modes = (values.compile ?? "eager,replay").split(",") as Compile[];
/** "R replayed, E eager" of the last epoch (replay rows). */
const counts = (m: Measured) => (m.compiled ? `; last epoch ${m.compiled.replayed} replayed, ${m.compiled.eager} eager` : "");
try {
  process.stdout.write(`quickstart, ${pairs} pairs, global batch ${2 * b}, last of ${epochs} epochs (torch backend, CPU)\n`);
  let base: number | undefined;
  for (const compile of modes) {
    const one = measure(1, 2, compile, 2 * b, pairs, epochs, dir);
    const two = measure(2, 1, compile, b, pairs, epochs, dir);
    base ??= one.samplesPerSec;
    const rel = (m: Measured) => `${(m.samplesPerSec / base!).toFixed(2)}× 1×2 ${modes[0]}`;
    process.stdout.write(`  ${compile.padEnd(6)} 1 process × 2 threads:   ${one.samplesPerSec.toFixed(1)} samples/s (${rel(one)}${counts(one)})\n`);
    process.stdout.write(`  ${compile.padEnd(6)} 2 processes × 1 thread:  ${two.samplesPerSec.toFixed(1)} samples/s (${rel(two)}${counts(two)})\n`);
    process.stdout.write(
      `  ${compile.padEnd(6)} collectives per step: ${two.allreduceMs?.toFixed(2)} ms, ${((two.allreduceBytes ?? 0) / 1024).toFixed(1)} KiB (gradient buckets + loss head; waits for the slower rank included)\n`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
