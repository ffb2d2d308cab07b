// The kind contracts of the training side: for losses, optimizers and schedules,
// the context each build receives and the object it returns (KindContracts in
// ./kinds.ts; their define* helpers in ./define.ts; the built-ins in src/train/).
// Shapes: B = batch, N = region tokens, M = modules per layer, d = dim.
import type * as tf from "@tensorflow/tfjs";
import type { ParamScope } from "../nn/scope.js";

// ── losses ───────────────────────────────────────────────────────────────────
export interface LossBuildContext {
  dim: number;
  /** Scope for the loss's own learnable parameters (e.g. "losses.batch_classification"). */
  scope: ParamScope;
}

/** What one training step hands every loss (the network's QueryOutput plus the targets). */
export interface LossInput {
  query: tf.Tensor2D; // (B, d) q = pooled final fused tokens f̄
  tokens: tf.Tensor3D; // (B, N, d) f
  /** L entries: layer l < L: (B, M, M) rows sum to 1; last: (B, M, 1) output weights w, sum to 1 over M. */
  paths: tf.Tensor3D[];
  lastInputs: tf.Tensor3D; // (B, M, d) pooled inputs of the last layer's modules
  target: tf.Tensor2D; // (B, d) pooled target t
  /**
   * The path-distillation teacher, same shapes as `paths` (constants, no gradient),
   * or null when no sample of the batch has one (first epoch).
   */
  teacher: tf.Tensor3D[] | null;
  /** (B) float32: 1 where the sample has a teacher, 0 otherwise. Null with `teacher`. */
  teacherMask: tf.Tensor1D | null;
}

export interface Loss {
  /** The weight λ of this component in the total (from the recipe). */
  weight: number;
  /** Where the path-distillation teacher comes from; absent for losses that need none. */
  teacher?: "cache" | "frozen";
  /** The unweighted scalar loss of the batch. */
  compute(input: LossInput): tf.Scalar;
}

// ── optimizers ───────────────────────────────────────────────────────────────
export interface OptimizerBuildContext {
  /** Trainable variables by dotted parameter name, in store order. */
  variables: ReadonlyMap<string, tf.Variable>;
  /**
   * Learning-rate multipliers by parameter-name prefix that the network's encoders ask for
   * (a CLIP encoder's `lr_mult`): a parameter's rate is multiplied by the longest matching prefix's.
   */
  lrMults?: ReadonlyMap<string, number>;
}

/** Serializable optimizer state: moment tensors by name ("m/<param>", "v/<param>") and scalars. */
export interface OptimizerState {
  step: number;
  tensors: Record<string, { shape: number[]; data: Float32Array }>;
}

export interface Optimizer {
  /**
   * Applies one update: grads by parameter name (owned by the caller), lr for
   * this step. Clips by global norm first when `grad_clip` > 0.
   */
  apply(grads: Record<string, tf.Tensor>, lr: number): void;
  /**
   * The variables it updates, by dotted name; a frozen part (adam's backbone at
   * backbone_lr_mult 0) is left out, and the trainer computes no gradient for it.
   * Absent: every variable of the build context.
   */
  readonly variables?: ReadonlyMap<string, tf.Variable>;
  /** Update count so far. */
  readonly steps: number;
  /**
   * For compiled steps: the step scalars (src/backend/step-scalars.ts) the next update's
   * kernels take at learning rate `lr` — what `apply` declares — without applying anything.
   */
  stepScalars?(lr: number): Record<string, number>;
  /** For compiled steps: counts one update that a replayed step applied. */
  countStep?(): void;
  save(): Promise<OptimizerState>;
  load(state: OptimizerState): void;
  dispose(): void;
}

// ── schedules ────────────────────────────────────────────────────────────────
export interface ScheduleBuildContext {
  baseLr: number;
  epochs: number;
  stepsPerEpoch: number;
}

export interface Schedule {
  /** Learning rate for the global 0-based step. */
  lrAt(step: number): number;
}
