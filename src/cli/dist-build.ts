// `sdfn build --nproc N`: the CLI side of data-parallel training. In the launching process it
// starts the N workers (src/dist/launch.ts) instead of training; in a worker it pins the rank's
// device and tees its events into RUN_DIR/logs/rank-K.log.
import { createWriteStream } from "node:fs";
import { dirname } from "node:path";
import { loadAddon } from "../backend/torch/native.js";
import { distEnv, DistEnvError } from "../dist/env.js";
import { launchWorkers, rankLog, SUPERVISOR_ENV } from "../dist/launch.js";
import { openForAppend, ownedDir } from "../io/owned-files.js";
import type { EventSink } from "../train/events.js";
import { UsageError } from "./command.js";

/** --nproc N: a whole number ≥ 1 (default 1). */
export function parseNproc(raw: string | undefined): number {
  if (raw === undefined) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--nproc ${raw}: expected a whole number of processes ≥ 1`);
  return n;
}

/** This process's rank when it is a worker of a job (RANK/WORLD_SIZE set), else null. */
export function jobRank(): number | null {
  try {
    return distEnv()?.rank ?? null;
  } catch (err) {
    if (err instanceof DistEnvError) throw new UsageError(`distributed environment: ${err.message}`);
    throw err;
  }
}

/** The job's process count: WORLD_SIZE in a worker, else --nproc. */
export function jobWorld(nproc: number): number {
  return distEnv()?.world ?? nproc;
}

/** The build command line of every worker: the caller's options with the run directory fixed. */
export function workerArgs(o: {
  file: string;
  sets: string[];
  plugins: string[];
  noPlugins?: boolean;
  allowOutsideRoot?: boolean;
  backend?: string;
  log: string;
  out: string;
  resume?: string;
}): string[] {
  const args = ["build", o.file, ...o.sets.flatMap((s) => ["--set", s]), ...o.plugins.flatMap((p) => ["--plugin", p])];
  if (o.noPlugins) args.push("--no-plugins");
  if (o.allowOutsideRoot) args.push("--allow-outside-root");
  if (o.backend) args.push("--backend", o.backend);
  args.push("--log", o.log, ...(o.resume ? ["--resume", o.resume] : ["--out", o.out]));
  return args;
}

/** Starts the job's workers and waits for them (the launching process trains nothing). */
export async function launchJob(nproc: number, backend: string, args: string[], runDir: string): Promise<number> {
  if (backend !== "torch" && backend !== "auto") {
    throw new UsageError(`--nproc ${nproc}: data-parallel training runs on the torch backend (this run asks for ${backend}); add --backend torch`);
  }
  if (nproc > 1 && backend === "auto") args = [...args, "--backend", "torch"];
  return launchWorkers({ nproc, args, runDir });
}

/** A worker on CUDA uses GPU LOCAL_RANK (mod the count) unless SDFN_TORCH_DEVICE says otherwise. */
export function pinDevice(): void {
  const env = distEnv();
  const loaded = loadAddon();
  if (!env || process.env.SDFN_TORCH_DEVICE || "error" in loaded) return;
  const cudaDevices = loaded.addon.info().cudaDevices;
  if (cudaDevices === 0) return;
  process.env.SDFN_TORCH_DEVICE = `cuda:${env.localRank % cudaDevices}`;
}

/**
 * A worker's sink: rank 0's events also go to logs/rank-0.log (its stdout is the terminal), and
 * so do every rank's when no sdfn supervisor redirected its output (torchrun, srun).
 */
export async function rankSink(sink: EventSink, runDir: string, rank: number): Promise<{ sink: EventSink; close: () => Promise<void> }> {
  if (rank !== 0 && process.env[SUPERVISOR_ENV]) return { sink, close: async () => {} };
  const file = rankLog(runDir, rank);
  ownedDir(dirname(file));
  const stream = createWriteStream(file, { fd: openForAppend(file) }); // never through a link
  const [{ createPlainLogger }, { guardOutput }] = await Promise.all([import("./render/plain.js"), import("./render/output.js")]);
  const plain = createPlainLogger(guardOutput(stream), { every: 1 });
  return {
    sink: (event) => {
      plain.sink(event);
      sink(event);
    },
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}
