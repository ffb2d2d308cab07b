// Checkpoint reading and writing, all of it (file names from run-dir.ts). In
// RUN_DIR/checkpoints/: TAG.safetensors (every parameter by dotted name),
// TAG.state.safetensors (optimizer moments, path-distillation cache, the
// frozen teacher's weights) and TAG.json (recipe hash, position, RNG seed,
// best metric). Each file is written to a temporary name and renamed; the JSON
// last, so a reader never sees metadata for weights that are not there yet.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { readSafetensors, writeSafetensors, type SafeTensor } from "../io/safetensors.js";
import type { ParamStore } from "../nn/scope.js";
import { storeTensors, type StoreTensors } from "../nn/store-io.js";
import type { Optimizer } from "../train/kinds.js";
import type { EpochTotals, TrainPosition } from "../train/trainer.js";
import { RunDir, type CheckpointTag } from "./run-dir.js";

export type { CheckpointTag } from "./run-dir.js";
export { loadStoreTensors, storeTensors } from "../nn/store-io.js";

/** Where training stands: enough to continue exactly. */
export interface CheckpointMeta extends TrainPosition {
  format: 1;
  recipeName: string;
  recipeHash: string;
  /** The recipe seed; every RNG stream derives from it, the epoch and the step. */
  rng: { seed: number; streams: "seed⊕epoch (shuffle, augmentation), seed⊕step (dropout)" };
  optimizer: { type: string; steps: number };
  /** Running sums of the epoch in progress (for its mean losses). */
  epochTotals: EpochTotals;
  /** Path-distillation teacher kept in the state file: "cache", "frozen" or none. */
  teacher: "cache" | "frozen" | null;
  seconds: number;
  time: string;
}

const paths = (runDir: string, tag: CheckpointTag) => new RunDir(runDir).checkpoint(tag);

type Tensors = StoreTensors;

export interface CheckpointParts {
  store: ParamStore;
  optimizer: Optimizer;
  /** Extra state tensors (path-distillation cache, teacher weights). */
  extra: Tensors;
  meta: CheckpointMeta;
  /** Also write TAG.state.safetensors (optimizer, cache): needed to resume, not to evaluate. */
  withState: boolean;
}

/** Writes TAG.{safetensors,state.safetensors,json} atomically; returns the weights path. */
export async function saveCheckpoint(runDir: string, tag: CheckpointTag, parts: CheckpointParts): Promise<string> {
  const p = paths(runDir, tag);
  mkdirSync(p.dir, { recursive: true });
  writeSafetensors(p.weights, await storeTensors(parts.store), { format: "sdfn", recipe_hash: parts.meta.recipeHash });
  if (parts.withState) {
    const opt = await parts.optimizer.save();
    const state: Tensors = { ...parts.extra };
    for (const [name, t] of Object.entries(opt.tensors)) state[`optimizer.${name}`] = t;
    writeSafetensors(p.state, state, { optimizer_steps: String(opt.step) });
  }
  const tmp = `${p.meta}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(parts.meta, null, 2)}\n`);
  renameSync(tmp, p.meta);
  return p.weights;
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  weights: Record<string, SafeTensor>;
  state: Record<string, SafeTensor>;
  path: string;
}

/** Reads TAG of a run directory; throws naming the missing file and what to do. */
export function readCheckpoint(runDir: string, tag: CheckpointTag, withState = true): LoadedCheckpoint {
  const p = paths(runDir, tag);
  const meta = readCheckpointMeta(runDir, tag);
  const weights = readSafetensors(p.weights).tensors;
  const state = withState && existsSync(p.state) ? readSafetensors(p.state).tensors : {};
  return { meta, weights, state, path: p.weights };
}

/** TAG's metadata alone (no tensors read); throws like readCheckpoint when it is not there. */
export function readCheckpointMeta(runDir: string, tag: CheckpointTag): CheckpointMeta {
  const p = paths(runDir, tag);
  if (!existsSync(p.meta)) {
    throw new Error(`${p.meta}: no "${tag}" checkpoint in ${runDir} (is it a run directory written by \`sdfn build\`?)`);
  }
  return JSON.parse(readFileSync(p.meta, "utf8")) as CheckpointMeta;
}

/** The optimizer part of a state file, as Optimizer.load expects it. */
export function optimizerState(state: Record<string, SafeTensor>, steps: number) {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(state)) {
    if (name.startsWith("optimizer.")) tensors[name.slice("optimizer.".length)] = { shape: t.shape, data: t.data as Float32Array };
  }
  return { step: steps, tensors };
}
