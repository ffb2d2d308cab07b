// training.compile: each step shape (batch and teacher shapes) is run eagerly and recorded, then
// replayed natively (forward, backward, finite check and update in one call) by the backend's
// replay unit (src/backend/replay.ts), whose rules say when a program is made and when replay is
// given up on (then training goes on eagerly, with one warning).
import * as tf from "@tensorflow/tfjs";

import { createReplayer, replayUnavailable, type Replayer, type ReplayProgram } from "../backend/replay.js";
import { padToBucket } from "../data/text-bucket.js";
import type { TrainBatch } from "../data/types.js";
import { readPacked, type EagerRun, type EagerStep, type PackedShape, type StepCompiler, type StepResult, type StepSetup, type StepTeacher } from "./step.js";

export type CompileMode = "auto" | "eager" | "replay";

/** What a step program keeps beside itself: the packed vector's routing shape and the parameters without gradient. */
interface StepMeta {
  shape: PackedShape;
  noGradient: string[];
}
const metaOf = (ran: EagerStep): StepMeta => ({ shape: ran.shape, noGradient: ran.result.noGradient });

/** Programs built, steps replayed and steps run eagerly so far. */
export interface CompileCounts {
  programs: number;
  replayed: number;
  eager: number;
}

/**
 * The batch with tokens and mask padded to the next multiple of `bucket` words, so a few programs
 * serve every text length. Padding is masked everywhere and changes no result
 * (test/graph/padding.test.ts: encoders, modules, routers, dropout draws).
 */
export function bucketed(batch: TrainBatch, bucket: number): { batch: TrainBatch; made: tf.Tensor[] } {
  const { tokens, mask, made } = padToBucket(batch.tokens, batch.mask, bucket);
  return { batch: made.length ? { ...batch, tokens, mask } : batch, made };
}

/** The step's declared inputs, in program order: the batch, then what the teacher reads (the batch's sample ids). */
const declaredInputs = (batch: TrainBatch, teacher: StepTeacher): tf.Tensor[] => [batch.reference, batch.target, batch.tokens, batch.mask, ...(teacher?.inputs ?? [])];

const signature = (inputs: readonly tf.Tensor[], teacher: StepTeacher, lr: number) =>
  `${inputs.map((t) => `${t.dtype}[${t.shape}]`).join(" ")} teacher:${teacher?.signature ?? "none"} lr${lr > 0 ? "+" : "0"}`;

/** training.text_bucket: texts are padded to a multiple of this many words (1 = a program per text length); training.cuda_graph. */
export interface CompileOptions {
  textBucket: number;
  cudaGraph?: "auto" | "off";
}
const DEFAULT_OPTIONS: CompileOptions = { textBucket: 1 };

export class CompiledSteps implements StepCompiler {
  private readonly unit: Replayer<StepMeta>;

  /** On the active backend, which must be able to replay (stepCompiler checks). */
  constructor(warn: (message: string) => void, private readonly options: CompileOptions = DEFAULT_OPTIONS) {
    const made = createReplayer<StepMeta>({ subject: "this step", continues: "training", warn, cudaGraph: options.cudaGraph ?? "off" });
    if ("unavailable" in made) throw new Error(`training.compile: ${made.unavailable}`);
    this.unit = made;
  }

  /** Why compilation was turned off (null while it is on). */
  get refused(): string | null {
    return this.unit.refused;
  }

  async step(s: StepSetup, given: TrainBatch, teacher: StepTeacher, lr: number, seed: number, eager: EagerRun): Promise<StepResult> {
    const { stepScalars, countStep } = s.optimizer;
    if (!stepScalars || !countStep) this.unit.refuse("the optimizer declares no step scalars (Optimizer.stepScalars)");
    // replay is off: the step runs eagerly, unrecorded (and counted)
    if (this.unit.refused) return (await this.unit.recordAsync("", [], (recording) => eager(given, recording), { meta: metaOf })).result;
    const { batch, made } = bucketed(given, this.options.textBucket);
    try {
      const inputs = declaredInputs(batch, teacher);
      const key = signature(inputs, teacher, lr);
      const replayed = this.unit.replay(key, inputs, stepScalars!.call(s.optimizer, lr), seed);
      if (replayed) {
        if (replayed.finite) countStep!.call(s.optimizer);
        return { ...readPacked(s, replayed.values, replayed.meta.shape), noGradient: replayed.meta.noGradient };
      }
      const options = { meta: metaOf, guard: s.losses.length + 1 };
      return (await this.unit.recordAsync(key, inputs, (recording) => eager(batch, recording), options)).result;
    } finally {
      tf.dispose(made);
    }
  }

  /** Turns compilation off for the run (one warning) and frees every program. */
  refuse(reason: string): void {
    this.unit.refuse(reason);
  }

  /** The programs built so far. */
  programs(): ReplayProgram[] {
    return this.unit.programs();
  }

  takeCounts(): CompileCounts {
    return this.unit.takeCounts();
  }

  dispose(): void {
    this.unit.dispose();
  }
}

/** A step compiler for `mode` on the active backend, or undefined when steps run eagerly. */
export function stepCompiler(mode: CompileMode, warn: (message: string) => void, options: CompileOptions = DEFAULT_OPTIONS): CompiledSteps | undefined {
  if (mode === "eager") return undefined;
  const unavailable = replayUnavailable();
  if (unavailable) {
    // auto on another backend says nothing: eager is what it asked for there
    if (mode === "replay" || tf.getBackend() === "torch") warn(`training.compile: ${unavailable}; training runs eagerly`);
    return undefined;
  }
  return new CompiledSteps(warn, options);
}
