// Checkpoint reading and writing, all of it (file names from run-dir.ts). A checkpoint is
// one unit, RUN_DIR/checkpoints/TAG/ (checkpoint-unit.ts: written whole, then swapped in;
// SHA-256 of every file verified on load; TAG.prev/ kept as the fallback) holding
// weights.safetensors (every parameter by dotted name), state.safetensors (optimizer
// moments, path-distillation cache, the frozen teacher's weights) and meta.json.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { withPath } from "../io/io-error.js";
import { readSafetensors, writeSafetensors, type SafeTensor } from "../io/safetensors.js";
import type { ParamStore } from "../nn/scope.js";
import { storeTensors, type StoreTensors } from "../nn/store-io.js";
import type { Optimizer } from "../registry/kinds-training.js";
import type { EpochTotals, TrainPosition } from "../train/trainer.js";
import { checkpointFiles, RunDir, type CheckpointTag } from "./run-dir.js";
import { CheckpointError, checkpointFix, findUnit, writeUnit } from "./checkpoint-unit.js";
import { jsonErrorPlace } from "../util/json-file.js";
import { epochIndex, epochNumber } from "./epochs.js";
import type { PretrainedRecord } from "./pretrained.js";

export type { CheckpointTag } from "./run-dir.js";
export { loadStoreTensors, storeTensors } from "../nn/store-io.js";
export { CheckpointError } from "./checkpoint-unit.js";

/**
 * Where training stands: enough to continue exactly. In memory `epoch` (where a resume
 * starts) and `best.epoch` are 0-based; meta.json format 2 numbers them from 1 (format 1,
 * written before, is read as it was).
 */
export interface CheckpointMeta extends TrainPosition {
  format: 1 | 2;
  recipeName: string;
  recipeHash: string;
  /** The recipe seed; every RNG stream derives from it, the epoch and the step. */
  rng: { seed: number; streams: "seed⊕epoch (shuffle, augmentation), seed⊕step (dropout)" };
  optimizer: { type: string; steps: number };
  /** Processes that trained it (data-parallel; absent = 1): a resume needs the same number. */
  world?: number;
  /** Running sums of the epoch in progress (for its mean losses). */
  epochTotals: EpochTotals;
  /** Path-distillation teacher kept in the state file: "cache", "frozen" or none. */
  teacher: "cache" | "frozen" | null;
  /** What the encoders started from (file, SHA-256; null = from scratch): a resume reports it. Absent before it was kept. */
  pretrained?: PretrainedRecord;
  /** With data.missing_images: skip, the missing images the run was started with (count, SHA-256 of their ids): a resume must see the same. */
  missingImages?: { missing: number; fingerprint: string };
  seconds: number;
  time: string;
}

type Tensors = StoreTensors;

export interface CheckpointParts {
  store: ParamStore;
  optimizer: Optimizer;
  /** Extra state tensors (path-distillation cache, teacher weights). */
  extra: Tensors;
  meta: CheckpointMeta;
  /** Also write state.safetensors (optimizer, cache): needed to resume, not to evaluate. */
  withState: boolean;
}

/** Writes checkpoint TAG as one unit (the previous one stays until this one is complete); returns its weights path. */
export async function saveCheckpoint(runDir: string, tag: CheckpointTag, parts: CheckpointParts): Promise<string> {
  const weights = await storeTensors(parts.store);
  const opt = parts.withState ? await parts.optimizer.save() : undefined;
  const dir = await writeUnit(new RunDir(runDir).checkpoints, tag, async (tmp) => {
    const p = checkpointFiles(tmp);
    withPath(p.weights, "write", () => writeSafetensors(p.weights, weights, { format: "sdfn", recipe_hash: parts.meta.recipeHash }));
    if (opt) {
      const state: Tensors = { ...parts.extra };
      for (const [name, t] of Object.entries(opt.tensors)) state[`optimizer.${name}`] = t;
      withPath(p.state, "write", () => writeSafetensors(p.state, state, { optimizer_steps: String(opt.step) }));
    }
    withPath(p.meta, "write", () => writeFileSync(p.meta, `${JSON.stringify(metaToFile(parts.meta), null, 2)}\n`));
  });
  return checkpointFiles(dir).weights;
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  weights: Record<string, SafeTensor>;
  state: Record<string, SafeTensor>;
  path: string;
  /** Set when TAG was corrupt or incomplete and its predecessor was loaded instead: say it to the user. */
  fellBack?: string;
}

/** Reads TAG of a run directory, verified (falling back to TAG.prev); throws CheckpointError naming the bad file. */
export function readCheckpoint(runDir: string, tag: CheckpointTag, withState = true): LoadedCheckpoint {
  const unit = verifiedUnit(runDir, tag);
  const p = checkpointFiles(unit.dir);
  const meta = parseMeta(p.meta, tag);
  const weights = readTensors(p.weights, tag);
  const state = withState && existsSync(p.state) ? readTensors(p.state, tag) : {};
  // Visible whatever the caller renders (like the torch backend's cpu-fallback warning).
  if (unit.fellBack) process.emitWarning(unit.fellBack, { code: "SDFN_CHECKPOINT_FALLBACK" });
  return { meta, weights, state, path: p.weights, fellBack: unit.fellBack };
}

/** TAG's metadata alone (verified like readCheckpoint, no tensors decoded). */
export function readCheckpointMeta(runDir: string, tag: CheckpointTag): CheckpointMeta {
  return parseMeta(checkpointFiles(verifiedUnit(runDir, tag).dir).meta, tag);
}

/** A checkpoint file's tensors; a file that does not parse (its manifest rehashed after an edit, say) is a CheckpointError. */
function readTensors(file: string, tag: CheckpointTag): Record<string, SafeTensor> {
  try {
    return readSafetensors(file).tensors;
  } catch (err) {
    const why = (err as Error).message;
    throw new CheckpointError(`${why.startsWith(file) ? why : `${file}: not a readable safetensors file (${why})`}; ${checkpointFix(tag)}`);
  }
}

function verifiedUnit(runDir: string, tag: CheckpointTag) {
  const unit = findUnit(new RunDir(runDir).checkpoints, tag);
  if (!unit) throw new CheckpointError(`no "${tag}" checkpoint in ${new RunDir(runDir).path}; give a run directory written by \`sdfn build\` that has one`);
  return unit;
}

function parseMeta(file: string, tag: CheckpointTag): CheckpointMeta {
  const text = readFileSync(file, "utf8");
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(text) as CheckpointMeta;
  } catch (err) {
    throw new CheckpointError(`${file}${jsonErrorPlace(text, (err as Error).message)}; ${checkpointFix(tag)}`);
  }
  if (typeof meta !== "object" || meta === null) throw new CheckpointError(`${file}: not a checkpoint's metadata (a JSON object); ${checkpointFix(tag)}`);
  if (meta.format === 1) return meta; // epochs 0-based, as in memory
  if (meta.format !== META_FORMAT) {
    throw new CheckpointError(`${file}: checkpoint format ${String(meta.format)} is not one this sdfn reads (1, 2); it was written by another version`);
  }
  return metaShifted(meta, epochIndex);
}

/** meta.json's format: 2 = epoch numbers from 1. */
const META_FORMAT = 2;

const metaToFile = (meta: CheckpointMeta): CheckpointMeta => ({ ...metaShifted(meta, epochNumber), format: META_FORMAT });

function metaShifted(meta: CheckpointMeta, f: (epoch: number) => number): CheckpointMeta {
  return { ...meta, epoch: f(meta.epoch), best: meta.best ? { ...meta.best, epoch: f(meta.best.epoch) } : meta.best };
}

/** The optimizer part of a state file, as Optimizer.load expects it. */
export function optimizerState(state: Record<string, SafeTensor>, steps: number) {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(state)) {
    if (name.startsWith("optimizer.")) tensors[name.slice("optimizer.".length)] = { shape: t.shape, data: t.data as Float32Array };
  }
  return { step: steps, tensors };
}
