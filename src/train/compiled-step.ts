// training.compile on the torch backend: each step shape (batch and teacher shapes) is run
// eagerly and recorded twice; two captures that agree become a native program (one per shape),
// and every later step of that shape is one replay: forward, backward, finite check and update
// in C++. A step that cannot be replayed (a cpu fallback, another readback, an undeclared value
// that changes) turns compilation off for the run, with one warning; training goes on eagerly.
import * as tf from "@tensorflow/tfjs";

import type { TorchBackend } from "../backend/torch/backend.js";
import { plan, StepProgram } from "../backend/torch/program.js";
import type { Capture, Recorder } from "../backend/torch/recorder.js";
import { padToBucket } from "../data/text-bucket.js";
import type { TrainBatch } from "../data/types.js";
import { readPacked, type EagerRun, type EagerStep, type PackedShape, type StepCompiler, type StepResult, type StepSetup, type StepTeacher } from "./step.js";

export type CompileMode = "auto" | "eager" | "replay";

/** Captures of one shape that may disagree before a program is given up on (a lazily built constant, say). */
const MAX_CAPTURES = 4;

interface Entry {
  last: Capture | null;
  captures: number;
  program: StepProgram | null;
  shape: PackedShape;
  noGradient: string[];
}

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
  private counts: CompileCounts = { programs: 0, replayed: 0, eager: 0 };
  /** Why compilation was turned off (null while it is on). */
  refused: string | null = null;
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly backend: TorchBackend,
    private readonly warn: (message: string) => void,
    private readonly options: CompileOptions = DEFAULT_OPTIONS,
  ) {}

  async step(s: StepSetup, given: TrainBatch, teacher: StepTeacher, lr: number, seed: number, eager: EagerRun): Promise<StepResult> {
    if (this.refused) return this.eager(eager, given);
    const { batch, made } = bucketed(given, this.options.textBucket);
    try {
      return await this.compiledStep(s, batch, teacher, lr, seed, eager);
    } finally {
      tf.dispose(made);
    }
  }

  private async compiledStep(s: StepSetup, batch: TrainBatch, teacher: StepTeacher, lr: number, seed: number, eager: EagerRun): Promise<StepResult> {
    const inputs = declaredInputs(batch, teacher);
    const key = signature(inputs, teacher, lr);
    const entry = this.entries.get(key);
    if (!s.optimizer.stepScalars || !s.optimizer.countStep) {
      this.refuse("the optimizer declares no step scalars (Optimizer.stepScalars)");
      return this.eager(eager, batch);
    }
    if (entry?.program) {
      const scalars = s.optimizer.stepScalars(lr);
      if (entry.program.accepts(scalars)) return this.replay(s, entry, inputs, scalars, seed);
      // a pinned scalar changed (a step schedule's decay): record this shape anew
      entry.program.dispose();
      entry.program = null;
      entry.captures = 0;
    }
    const recorder = this.backend.startRecording();
    let ran: EagerStep;
    try {
      ran = await eager(batch, recorder);
    } finally {
      this.backend.stopRecording();
    }
    this.learn(key, entry, recorder, inputs, s, ran);
    this.counts.eager++;
    return ran.result;
  }

  /** Turns compilation off for the run (one warning) and frees every program. */
  refuse(reason: string): void {
    if (this.refused) return;
    this.refused = reason;
    this.warn(`training.compile: this step cannot be replayed natively (${reason}); training continues eagerly`);
    this.dispose();
  }

  /** The programs built so far. */
  programs(): StepProgram[] {
    return [...this.entries.values()].flatMap((e) => (e.program ? [e.program] : []));
  }

  takeCounts(): CompileCounts {
    const counts = this.counts;
    this.counts = { programs: 0, replayed: 0, eager: 0 };
    return counts;
  }

  dispose(): void {
    for (const e of this.entries.values()) e.program?.dispose();
    this.entries.clear();
  }

  private async eager(eager: EagerRun, batch: TrainBatch): Promise<StepResult> {
    this.counts.eager++;
    return (await eager(batch, null)).result;
  }

  private replay(s: StepSetup, entry: Entry, inputs: tf.Tensor[], scalars: Record<string, number>, seed: number): StepResult {
    const { values, finite } = entry.program!.replay(inputs, scalars, seed);
    if (finite) s.optimizer.countStep!();
    this.counts.replayed++;
    return { ...readPacked(s, values, entry.shape), noGradient: entry.noGradient };
  }

  /** A new capture of shape `key`: kept, compared with the previous one, or (after too many) given up. */
  private learn(key: string, entry: Entry | undefined, recorder: Recorder, inputs: tf.Tensor[], s: StepSetup, ran: EagerStep): void {
    const capture = recorder.finish(inputs);
    if (recorder.refusal && !recorder.transient) return this.refuse(recorder.refusal);
    const e: Entry = entry ?? { last: null, captures: 0, program: null, shape: ran.shape, noGradient: ran.result.noGradient };
    this.entries.set(key, e);
    e.captures++;
    const planned = recorder.refusal ?? (e.last ? plan(e.last, capture) : null);
    if (planned && typeof planned !== "string") {
      e.program = new StepProgram(this.backend, planned, s.losses.length + 1);
      e.last = null;
      this.counts.programs++;
      return;
    }
    if (typeof planned === "string" && e.captures >= MAX_CAPTURES) return this.refuse(planned);
    e.last = recorder.refusal ? null : capture;
  }
}

/** A step compiler for `mode` on the active backend, or undefined when steps run eagerly. */
export function stepCompiler(mode: CompileMode, warn: (message: string) => void, options: CompileOptions = DEFAULT_OPTIONS): CompiledSteps | undefined {
  if (mode === "eager") return undefined;
  if (tf.getBackend() !== "torch") {
    if (mode === "replay") warn(`training.compile: replay needs the torch backend (this run uses ${tf.getBackend()}); training runs eagerly`);
    return undefined;
  }
  const backend = tf.backend() as TorchBackend;
  if (typeof backend.native.addon.programCreate !== "function") {
    warn("training.compile: the native addon predates compiled steps; rebuild it with `npm run build:native`; training runs eagerly");
    return undefined;
  }
  const graphs = backend.native.addon.setCudaGraph?.(options.cudaGraph === "auto") ?? false;
  if (options.cudaGraph === "auto" && backend.device.startsWith("cuda") && !graphs) {
    warn("training.cuda_graph: this addon was built without CUDA graphs (no CUDA headers found: set CUDA_HOME and `npm run build:native`); replays run without them");
  }
  return new CompiledSteps(backend, warn, options);
}
