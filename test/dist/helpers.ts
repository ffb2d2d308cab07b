// Shared by the multi-process tests: run the sdfn CLI as a child process (Gloo over 127.0.0.1),
// and a small recipe without batch norm whose loss is a mean over samples, so 2 processes × b
// and 1 process × 2b compute the same gradient.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../support/requires.js";

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** `node bin/sdfn.js ARGS` with one ATen thread per process; `onSpawn` gets the child (to signal it). */
export function sdfn(args: string[], opts: { env?: Record<string, string>; timeoutS?: number; onSpawn?: (pid: number) => void } = {}): Promise<Ran> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "sdfn.js"), ...args], {
      cwd: ROOT,
      env: { ...process.env, SDFN_TORCH_THREADS: "1", CI: "true", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), (opts.timeoutS ?? 240) * 1000);
    opts.onSpawn?.(child.pid!);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** test/dist/fixtures/parity.yaml (small_cnn without batch norm, the consistency loss only, torch) with these values, in `dir`. */
export function writeRecipe(dir: string, o: { batch: number; epochs?: number; pairs?: number; lr?: number }): string {
  const file = join(dir, `recipe-b${o.batch}.yaml`);
  const text = readFileSync(join(import.meta.dirname, "fixtures", "parity.yaml"), "utf8")
    .replace(/train_pairs: \d+/, `train_pairs: ${o.pairs ?? 80}`)
    .replace(/epochs: \d+/, `epochs: ${o.epochs ?? 1}`)
    .replace(/batch_size: 4/, `batch_size: ${o.batch}`)
    .replace(/lr: [\d.]+/, `lr: ${o.lr ?? 0.001}`);
  writeFileSync(file, text);
  return file;
}

/** Steps a run replayed natively: the compile counts of its epoch events (metrics.jsonl lines). */
export const replayedSteps = (log: Record<string, unknown>[]) =>
  log.filter((e) => e.type === "epoch").reduce((n, e) => n + ((e.compiled as { replayed?: number } | undefined)?.replayed ?? 0), 0);
