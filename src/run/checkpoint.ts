// Checkpoints in RUN_DIR/checkpoints/: TAG.safetensors (every parameter by dotted
// name), TAG.state.safetensors (optimizer moments, path-distillation cache, the
// frozen teacher's weights) and TAG.json (recipe hash, position, RNG seed,
// best metric). Each file is written to a temporary name and renamed; the JSON
// last, so a reader never sees metadata for weights that are not there yet.
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readSafetensors, writeSafetensors, type SafeTensor } from "../io/safetensors.js";
import type { ParamStore } from "../nn/scope.js";
import type { Optimizer } from "./kinds.js";

export type CheckpointTag = "last" | "best";

/** Where training stands: enough to continue exactly. */
export interface CheckpointMeta {
  format: 1;
  recipeName: string;
  recipeHash: string;
  /** The epoch in progress (0-based) and the steps of it already done; epochStep 0 = at its start. */
  epoch: number;
  epochStep: number;
  /** Global steps done. */
  step: number;
  /** The recipe seed; every RNG stream derives from it, the epoch and the step. */
  rng: { seed: number; streams: "seed⊕epoch (shuffle, augmentation), seed⊕step (dropout)" };
  optimizer: { type: string; steps: number };
  /** Running sums of the epoch in progress (for its mean losses). */
  epochTotals: { losses: Record<string, number>; steps: number; samples: number; seconds: number };
  best: { name: string; value: number; epoch: number } | null;
  /** The latest evaluation's metrics, if any. */
  metrics: Record<string, number> | null;
  /** Path-distillation teacher kept in the state file: "cache", "frozen" or none. */
  teacher: "cache" | "frozen" | null;
  seconds: number;
  time: string;
}

export const checkpointDir = (runDir: string) => join(runDir, "checkpoints");
const paths = (runDir: string, tag: CheckpointTag) => {
  const dir = checkpointDir(runDir);
  return { dir, weights: join(dir, `${tag}.safetensors`), state: join(dir, `${tag}.state.safetensors`), meta: join(dir, `${tag}.json`) };
};

type Tensors = Record<string, { shape: number[]; data: Float32Array | Int32Array }>;

/** Every variable of a store, read back: name → {shape, data}. */
export async function storeTensors(store: ParamStore, prefix = ""): Promise<Tensors> {
  const out: Tensors = {};
  for (const [name, v] of store.variables) out[prefix + name] = { shape: v.shape, data: (await v.data()) as Float32Array };
  return out;
}

/** Assigns saved values to the store's variables; every variable must be present with its shape. */
export function loadStoreTensors(store: ParamStore, tensors: Record<string, SafeTensor | { shape: number[]; data: Float32Array | Int32Array | Uint8Array }>, where: string, prefix = ""): void {
  for (const [name, v] of store.variables) {
    const saved = tensors[prefix + name];
    if (!saved) throw new Error(`${where}: no tensor "${prefix + name}"; the checkpoint belongs to a different network`);
    if (saved.shape.join(",") !== v.shape.join(",")) {
      throw new Error(`${where}: "${prefix + name}" has shape [${saved.shape}], the network expects [${v.shape}]`);
    }
    tf.tidy(() => v.assign(tf.tensor(saved.data as Float32Array, v.shape, "float32")));
  }
}

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
  if (!existsSync(p.meta)) {
    throw new Error(`${p.meta}: no "${tag}" checkpoint in ${runDir} (is it a run directory written by \`sdfn build\`?)`);
  }
  const meta = JSON.parse(readFileSync(p.meta, "utf8")) as CheckpointMeta;
  const weights = readSafetensors(p.weights).tensors;
  const state = withState && existsSync(p.state) ? readSafetensors(p.state).tensors : {};
  return { meta, weights, state, path: p.weights };
}

/** The optimizer part of a state file, as Optimizer.load expects it. */
export function optimizerState(state: Record<string, SafeTensor>, steps: number) {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(state)) {
    if (name.startsWith("optimizer.")) tensors[name.slice("optimizer.".length)] = { shape: t.shape, data: t.data as Float32Array };
  }
  return { step: steps, tensors };
}
