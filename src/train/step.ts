// One training step: forward, the weighted losses, gradients, and ONE readback
// of a packed vector (loss components, total, routing means). The update (and the
// distillation cache's write of the batch's paths) is applied only when every loss
// is finite. Nothing else leaves the device. With `compiled` set (training.compile
// on the torch backend) the step is recorded and then replayed natively (./compiled-step.ts).
import * as tf from "@tensorflow/tfjs";
import { seedStepGenerator, type Recording } from "../backend/replay.js";
import type { TrainBatch } from "../data/types.js";
import type { ForwardContext } from "../nn/context.js";
import type { Loss, LossInput, Optimizer } from "../registry/kinds-training.js";
import { flattenPaths } from "./path-cache.js";

/** What the step needs from a compiled network (src/graph/compile.ts Network). */
export interface TrainableNetwork {
  encodeQuery(
    input: { reference: tf.Tensor4D; tokens: tf.Tensor2D; mask: tf.Tensor2D },
    fc: ForwardContext,
  ): Omit<LossInput, "target" | "teacher" | "teacherMask">;
  encodeTarget(images: tf.Tensor4D, fc: ForwardContext): tf.Tensor2D;
}

export interface NamedLoss {
  name: string;
  loss: Loss;
}

export interface StepSetup {
  net: TrainableNetwork;
  losses: NamedLoss[];
  optimizer: Optimizer;
  /** Trainable variables, and their dotted names by tfjs variable name. */
  variables: tf.Variable[];
  dottedName: ReadonlyMap<string, string>;
  /**
   * Data-parallel runs (src/dist/sync.ts): averages the gradients and the packed vector's first
   * `headLength` values (losses, total, routing) over the ranks; new tensors, the inputs are kept.
   */
  sync?: (grads: Record<string, tf.Tensor>, packed: tf.Tensor1D, headLength: number) => { grads: Record<string, tf.Tensor>; packed: tf.Tensor1D };
  /** Records the step per shape and replays it natively after (src/train/compiled-step.ts). */
  compiled?: StepCompiler;
}

/** A step over `net`: the optimizer's variables (else the network's trainable ones), named as in the network's store. */
export function stepSetup(
  net: TrainableNetwork & { store: { variables: ReadonlyMap<string, tf.Variable> } },
  losses: NamedLoss[],
  optimizer: Optimizer,
  extra: Pick<StepSetup, "compiled" | "sync"> = {},
): StepSetup {
  const all = net.store.variables;
  const variables = optimizer.variables ?? new Map([...all].filter(([, v]) => v.trainable));
  return { net, losses, optimizer, variables: [...variables.values()], dottedName: new Map([...all].map(([name, v]) => [v.name, name])), ...extra };
}

/** A batch's path-distillation teacher: paths as the student's (constants), and a (B) mask of the samples that have one. */
export type BatchTeacher = { paths: tf.Tensor3D[]; mask: tf.Tensor1D };

/**
 * The path-distillation teacher of one step, run inside the step (so a compiled step records
 * it): `read` gives the batch's teacher (gathered from the device cache, or a frozen network's
 * forward), `write` records the batch's own paths once the update is applied. Null: no distillation.
 * src/train/teacher.ts makes them.
 */
export type StepTeacher = {
  /** Declared inputs its kernels read beyond the batch (the batch's sample ids). */
  readonly inputs: readonly tf.Tensor[];
  /** Tells step programs apart: a step that reads a teacher runs other kernels than one that does not. */
  readonly signature: string;
  /** The batch's teacher paths and mask (new tensors; the step disposes them), or null (none yet). */
  read(batch: TrainBatch): BatchTeacher | null;
  /** Records the batch's flattened paths (B, P) (kept by the caller). */
  write?(flat: tf.Tensor2D): void;
} | null;

/** Runs steps through recorded programs; `eager` runs (and may record) the step as tfjs would. */
export interface StepCompiler {
  step(s: StepSetup, batch: TrainBatch, teacher: StepTeacher, lr: number, seed: number, eager: EagerRun): Promise<StepResult>;
  /** Programs built, steps replayed and steps run eagerly since the last call. */
  takeCounts(): { programs: number; replayed: number; eager: number };
  dispose(): void;
}

/** Runs the step eagerly on `batch`, recorded when `recording` is given. */
export type EagerRun = (batch: TrainBatch, recording: Recording | null) => Promise<EagerStep>;

/** An eager step's result, and the routing shape its packed vector had. */
export interface EagerStep {
  result: StepResult;
  shape: PackedShape;
}

/** L layers × M modules of routing means in the packed vector. */
export interface PackedShape {
  layers: number;
  modules: number;
}

export interface StepResult {
  /** Weighted loss components by name. */
  losses: Record<string, number>;
  total: number;
  /** Mean routing per layer row (events.ts `routing`). */
  routing: number[][];
  /** Names of losses that were NaN/Inf (the update was skipped). */
  nonFinite: string[];
  /** Trainable parameters that got no gradient. */
  noGradient: string[];
}

/** Routing summary rows: hidden layers (B, M, M) → mean received weight per module (M); last (B, M, 1) → mean w (M). */
function routingMeans(paths: readonly tf.Tensor3D[]): tf.Tensor1D[] {
  return paths.map((p) => (p.shape[2] === 1 ? p.mean(0).reshape([-1]) : p.mean([0, 1])) as tf.Tensor1D);
}

/** One step: replayed when `s.compiled` has a program for it, else eager. */
export async function trainStep(s: StepSetup, batch: TrainBatch, teacher: StepTeacher, fc: ForwardContext, lr: number): Promise<StepResult> {
  // The torch backend's dropout masks come from a native generator seeded once per step (replays reseed it the same way).
  const seed = seedStepGenerator(fc);
  const eager: EagerRun = (b, recording) => eagerStep(s, b, teacher, fc, lr, recording);
  if (s.compiled) return s.compiled.step(s, batch, teacher, lr, seed, eager);
  return (await eager(batch, null)).result;
}

/** The packed vector's values as a step result (`noGradient` comes from the caller). */
export function readPacked(s: StepSetup, values: Float32Array, shape: PackedShape): Omit<StepResult, "noGradient"> {
  const n = s.losses.length;
  const losses: Record<string, number> = {};
  s.losses.forEach(({ name }, i) => (losses[name] = values[i]!));
  const total = values[n]!;
  const routing: number[][] = [];
  let at = n + 1;
  for (let l = 0; l < shape.layers; l++, at += shape.modules) routing.push(Array.from(values.subarray(at, at + shape.modules)));
  const nonFinite = [...Object.entries(losses).filter(([, v]) => !Number.isFinite(v)).map(([k]) => k)];
  if (!Number.isFinite(total) && nonFinite.length === 0) nonFinite.push("total");
  return { losses, total, routing, nonFinite };
}

/** The step as tfjs runs it; `recording` (the backend recording it) is told which readback is the packed vector. */
async function eagerStep(s: StepSetup, batch: TrainBatch, teacher: StepTeacher, fc: ForwardContext, lr: number, recording: Recording | null): Promise<EagerStep> {
  let packed: tf.Tensor1D | null = null;
  let flat: tf.Tensor2D | null = null; // the batch's paths, for the cache's write after the update
  let shape = { layers: 0, modules: 0 };
  const given = teacher?.read(batch) ?? null;
  const f = () => {
    const out = s.net.encodeQuery({ reference: batch.reference, tokens: batch.tokens, mask: batch.mask }, fc);
    const target = s.net.encodeTarget(batch.target, fc);
    const input: LossInput = { ...out, target, teacher: given?.paths ?? null, teacherMask: given?.mask ?? null };
    const parts = s.losses.map(({ loss }) => tf.mul(loss.compute(input), loss.weight) as tf.Scalar);
    const total = tf.addN(parts) as tf.Scalar;
    shape = { layers: out.paths.length, modules: out.paths[0]?.shape[1] ?? 0 };
    const pieces: tf.Tensor1D[] = [tf.stack([...parts, total]) as tf.Tensor1D, ...routingMeans(out.paths)];
    if (teacher?.write) flat = tf.keep(flattenPaths(out.paths));
    packed = tf.keep(tf.concat(pieces) as tf.Tensor1D);
    return total;
  };
  const { value, grads: local } = tf.variableGrads(f, s.variables);
  // Distributed: averaged after the eager backward (a compiled step records the same allreduce kernels).
  const synced = s.sync?.(local, packed!, s.losses.length + 1 + shape.layers * shape.modules);
  const grads = synced?.grads ?? local;
  const kept = synced?.packed ?? (packed as tf.Tensor1D | null);
  try {
    recording?.expectResult(kept!);
    const values = (await kept!.data()) as Float32Array; // the step's only readback
    const read = readPacked(s, values, shape);
    const byName: Record<string, tf.Tensor> = {};
    for (const [tfName, g] of Object.entries(grads)) byName[s.dottedName.get(tfName) ?? tfName] = g;
    const noGradient = s.variables.filter((v) => !(v.name in grads)).map((v) => s.dottedName.get(v.name) ?? v.name);
    if (read.nonFinite.length === 0) {
      s.optimizer.apply(byName, lr);
      if (flat) teacher!.write!(flat);
    }
    return { result: { ...read, noGradient }, shape };
  } finally {
    tf.dispose([value, kept!, ...Object.values(grads), ...(flat ? [flat] : []), ...(given ? [...given.paths, given.mask] : [])]);
    if (synced) tf.dispose([packed!, ...Object.values(local)]);
  }
}
