// One training step: forward, the weighted losses, gradients, and ONE readback
// of a packed vector (loss components, total, routing means, and the batch's
// flattened paths for the distillation cache). The update is applied only when
// every loss is finite. Nothing else leaves the device.
import * as tf from "@tensorflow/tfjs";
import type { TrainBatch } from "../data/types.js";
import type { ForwardContext } from "../nn/context.js";
import type { Loss, LossInput, Optimizer } from "./kinds.js";
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
  /** Read the batch's flattened paths back (for the distillation cache). */
  recordPaths: boolean;
}

export interface StepResult {
  /** Weighted loss components by name. */
  losses: Record<string, number>;
  total: number;
  /** Mean routing per layer row (events.ts `routing`). */
  routing: number[][];
  /** (B·P) flattened paths, row-major, when recorded. */
  paths: Float32Array | null;
  /** Names of losses that were NaN/Inf (the update was skipped). */
  nonFinite: string[];
  /** Trainable parameters that got no gradient. */
  noGradient: string[];
}

/** Routing summary rows: hidden layers (B, M, M) → mean received weight per module (M); last (B, M, 1) → mean w (M). */
function routingMeans(paths: readonly tf.Tensor3D[]): tf.Tensor1D[] {
  return paths.map((p) => (p.shape[2] === 1 ? p.mean(0).reshape([-1]) : p.mean([0, 1])) as tf.Tensor1D);
}

export async function trainStep(
  s: StepSetup,
  batch: TrainBatch,
  teacher: { paths: tf.Tensor3D[]; mask: tf.Tensor1D } | null,
  fc: ForwardContext,
  lr: number,
): Promise<StepResult> {
  let packed: tf.Tensor1D | null = null;
  let shape = { layers: 0, modules: 0 };
  const f = () => {
    const out = s.net.encodeQuery({ reference: batch.reference, tokens: batch.tokens, mask: batch.mask }, fc);
    const target = s.net.encodeTarget(batch.target, fc);
    const input: LossInput = { ...out, target, teacher: teacher?.paths ?? null, teacherMask: teacher?.mask ?? null };
    const parts = s.losses.map(({ loss }) => tf.mul(loss.compute(input), loss.weight) as tf.Scalar);
    const total = tf.addN(parts) as tf.Scalar;
    shape = { layers: out.paths.length, modules: out.paths[0]?.shape[1] ?? 0 };
    const pieces: tf.Tensor1D[] = [tf.stack([...parts, total]) as tf.Tensor1D, ...routingMeans(out.paths)];
    if (s.recordPaths) pieces.push(flattenPaths(out.paths).reshape([-1]) as tf.Tensor1D);
    packed = tf.keep(tf.concat(pieces) as tf.Tensor1D);
    return total;
  };
  const { value, grads } = tf.variableGrads(f, s.variables);
  const kept = packed as tf.Tensor1D | null;
  try {
    const values = (await kept!.data()) as Float32Array; // the step's only readback
    const n = s.losses.length;
    const losses: Record<string, number> = {};
    s.losses.forEach(({ name }, i) => (losses[name] = values[i]!));
    const total = values[n]!;
    const routing: number[][] = [];
    let at = n + 1;
    for (let l = 0; l < shape.layers; l++, at += shape.modules) routing.push(Array.from(values.subarray(at, at + shape.modules)));
    const paths = s.recordPaths ? values.slice(at) : null;
    const nonFinite = [...Object.entries(losses).filter(([, v]) => !Number.isFinite(v)).map(([k]) => k)];
    if (!Number.isFinite(total) && nonFinite.length === 0) nonFinite.push("total");
    const byName: Record<string, tf.Tensor> = {};
    for (const [tfName, g] of Object.entries(grads)) byName[s.dottedName.get(tfName) ?? tfName] = g;
    const noGradient = s.variables.filter((v) => !(v.name in grads)).map((v) => s.dottedName.get(v.name) ?? v.name);
    if (nonFinite.length === 0) s.optimizer.apply(byName, lr);
    return { losses, total, routing, paths, nonFinite, noGradient };
  } finally {
    tf.dispose([value, kept!, ...Object.values(grads)]);
  }
}
