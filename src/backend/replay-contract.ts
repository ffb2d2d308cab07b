// The replay contract (src/backend/replay.ts makes replayers): what the training step, the
// evaluation forward and the query encoder built on it see of record and replay, whatever the
// backend. Types only, so the backend that implements it imports it without a cycle.
import type * as tf from "@tensorflow/tfjs";

/** What a recorded run tells the recorder: which readback is its result (a training step's packed losses). */
export interface Recording {
  expectResult(t: tf.Tensor): void;
}

/** Programs built, runs replayed and runs made eagerly (recorded or not). */
export interface ReplayCounts {
  programs: number;
  replayed: number;
  eager: number;
}

export interface ReplayProgramStats {
  replays: number;
  /** Time per kernel outside the kernels' own work (µs, over every replay so far). */
  hostMicrosPerKernel: number;
  /** Updates (Adam, the distillation cache's rows) that wrote into the state they update. */
  inPlaceUpdates: number;
  /** Other kernels that wrote their result into a dying input's storage. */
  overwrites: number;
}

/** One program (for the bench and tests). */
export interface ReplayProgram {
  readonly kernels: number;
  /** Update kernels the memory plan lets run in place. */
  readonly updates: number;
  stats(): ReplayProgramStats;
}

/** A replayed run: the packed result read back (training), whether it was finite (the update ran), the declared outputs (inference). */
export interface Replayed<Meta> {
  values: Float32Array;
  finite: boolean;
  /** New tensors, the caller's to dispose. */
  outputs: tf.Tensor[];
  /** What the caller kept with the program when it recorded it. */
  meta: Meta;
}

export interface RecordOptions<T, Meta> {
  /** Tensors made in the run that a replay hands back (an inference forward's embeddings). */
  outputs?: (result: T) => tf.Tensor[];
  /** What to keep with the program (read from the first recording of its signature). */
  meta: (result: T) => Meta;
  /** How many leading values of the packed result must be finite for the update to run (default 0: no readback). */
  guard?: number;
}

export interface Replayer<Meta = void> {
  /** Why replay was turned off (null while it is on). */
  readonly refused: string | null;
  /** Since the replayer was made. */
  readonly counts: Readonly<ReplayCounts>;
  /** Since the last call (or since it was made). */
  takeCounts(): ReplayCounts;
  /**
   * Replays the program of `signature` on `inputs` (in the order they were recorded), or returns
   * null when there is none for these step scalars (yet): then `record` the run.
   */
  replay(signature: string, inputs: readonly tf.Tensor[], scalars?: Readonly<Record<string, number>>, seed?: number): Replayed<Meta> | null;
  /** Runs `run` eagerly, recorded as `signature` over `inputs` (unrecorded once replay is off); returns its result. */
  record<T>(signature: string, inputs: readonly tf.Tensor[], run: (recording: Recording | null) => T, options: RecordOptions<T, Meta>): T;
  recordAsync<T>(signature: string, inputs: readonly tf.Tensor[], run: (recording: Recording | null) => Promise<T>, options: RecordOptions<T, Meta>): Promise<T>;
  /** Turns replay off for good (one warning) and frees every program. */
  refuse(reason: string): void;
  programs(): ReplayProgram[];
  /** Frees every program (the replayer stays usable: later runs record anew). */
  dispose(): void;
}

export interface ReplayerOptions {
  /** What is replayed and what goes on without it, for the warning: "this step", "training". */
  subject: string;
  continues: string;
  warn: (message: string) => void;
  /**
   * training.cuda_graph, for a training step's replayer (it sets the backend's switch): replays on
   * CUDA capture the kernels before the loss readback as a CUDA graph. Absent: the switch is left alone.
   */
  cudaGraph?: "auto" | "off";
}
