// The replay unit on the torch backend (the Replayer of src/backend/replay.ts), one rule set for
// every user: each signature's run is recorded eagerly; two captures of it that agree become a
// program (./plan.ts, ./program.ts), which every later run of that signature replays. A pinned step
// scalar that changed (a step schedule's decay) records the signature anew. A capture that refuses
// for good (a cpu fallback, another readback, an undeclared input freed inside) turns replay off
// at once; a signature that gave MAX_CAPTURES captures without two that agree (a constant that
// changes every run) turns it off too. Either is said in one warning and runs go on eagerly.
import * as tf from "@tensorflow/tfjs";

import type { RecordOptions, Recording, Replayed, ReplayCounts, ReplayerOptions, Replayer } from "../../replay-contract.js";
import type { TorchBackend } from "../backend.js";
import { plan } from "./plan.js";
import { NativeProgram } from "./program.js";
import type { Capture, Recorder } from "./recorder.js";

/** Captures of one signature that may disagree before replay is given up on (a lazily built constant, say). */
export const MAX_CAPTURES = 4;

interface Entry<Meta> {
  /** The last capture that may become a program with the next (null: none, or it refused for now). */
  last: Capture | null;
  captures: number;
  program: NativeProgram | null;
  meta: Meta;
  /** Why the last captures could not be one program. */
  why: string | null;
}

const noCounts = (): ReplayCounts => ({ programs: 0, replayed: 0, eager: 0 });

export class TorchReplayer<Meta> implements Replayer<Meta> {
  refused: string | null = null;
  readonly counts = noCounts();
  private taken = noCounts();
  private readonly entries = new Map<string, Entry<Meta>>();
  /** Replays capture CUDA graphs (training.cuda_graph on a CUDA build): programs keep their recorded order then. */
  private readonly graphs: boolean;

  constructor(
    private readonly backend: TorchBackend,
    private readonly options: ReplayerOptions,
  ) {
    // (the addon's switch is global: only a training step's replayer sets it; a forward's programs never use graphs)
    const graphs = options.cudaGraph ? (backend.native.addon.setCudaGraph?.(options.cudaGraph === "auto") ?? false) : false;
    this.graphs = graphs;
    if (options.cudaGraph === "auto" && backend.device.startsWith("cuda") && !graphs) {
      options.warn("training.cuda_graph: this addon was built without CUDA graphs (no CUDA headers found: set CUDA_HOME and `npm run build:native`); replays run without them");
    }
  }

  takeCounts(): ReplayCounts {
    const since = { programs: this.counts.programs - this.taken.programs, replayed: this.counts.replayed - this.taken.replayed, eager: this.counts.eager - this.taken.eager };
    this.taken = { ...this.counts };
    return since;
  }

  replay(signature: string, inputs: readonly tf.Tensor[], scalars: Readonly<Record<string, number>> = {}, seed = 0): Replayed<Meta> | null {
    const entry = this.entries.get(signature);
    if (this.refused || !entry?.program) return null;
    if (!entry.program.accepts(scalars)) {
      // a pinned scalar changed: this signature is recorded anew
      entry.program.dispose();
      entry.program = null;
      entry.captures = 0;
      return null;
    }
    this.counts.replayed++;
    return { ...entry.program.replay(inputs, scalars, seed), meta: entry.meta };
  }

  record<T>(signature: string, inputs: readonly tf.Tensor[], run: (recording: Recording | null) => T, options: RecordOptions<T, Meta>): T {
    this.counts.eager++;
    if (this.refused) return run(null);
    const recorder = this.backend.startRecording();
    let result: T;
    try {
      result = run(recorder);
    } finally {
      this.backend.stopRecording();
    }
    this.learn(signature, recorder, inputs, result, options);
    return result;
  }

  async recordAsync<T>(signature: string, inputs: readonly tf.Tensor[], run: (recording: Recording | null) => Promise<T>, options: RecordOptions<T, Meta>): Promise<T> {
    this.counts.eager++;
    if (this.refused) return run(null);
    const recorder = this.backend.startRecording();
    let result: T;
    try {
      result = await run(recorder);
    } finally {
      this.backend.stopRecording();
    }
    this.learn(signature, recorder, inputs, result, options);
    return result;
  }

  refuse(reason: string): void {
    if (this.refused) return;
    this.refused = reason;
    this.options.warn(`training.compile: ${this.options.subject} cannot be replayed natively (${reason}); ${this.options.continues} continues eagerly`);
    this.dispose();
  }

  programs(): NativeProgram[] {
    return [...this.entries.values()].flatMap((e) => (e.program ? [e.program] : []));
  }

  dispose(): void {
    for (const e of this.entries.values()) e.program?.dispose();
    this.entries.clear();
  }

  /** A new capture of `signature`: compared with the previous one, a program once two agree, or (after too many) given up. */
  private learn<T>(signature: string, recorder: Recorder, inputs: readonly tf.Tensor[], result: T, options: RecordOptions<T, Meta>): void {
    const capture = recorder.finish(inputs, options.outputs?.(result) ?? []);
    if (recorder.refusal && !recorder.transient) return this.refuse(recorder.refusal);
    let entry = this.entries.get(signature);
    if (!entry) this.entries.set(signature, (entry = { last: null, captures: 0, program: null, meta: options.meta(result), why: null }));
    entry.captures++;
    const planned = recorder.refusal ? recorder.refusal : entry.last ? plan(entry.last, capture) : null;
    if (planned && typeof planned !== "string") {
      entry.program = new NativeProgram(this.backend, planned, options.guard ?? 0, !this.graphs);
      entry.last = null;
      this.counts.programs++;
      // The eager runs' activations went back to the C allocator's free lists, which would keep the
      // resident set at their peak: hand them to the system, so replays run in the program's own.
      this.backend.native.addon.releaseFreeMemory?.();
      return;
    }
    if (planned) entry.why = planned;
    if (entry.captures >= MAX_CAPTURES) return this.refuse(`no two of ${MAX_CAPTURES} recorded runs of one shape agreed: ${entry.why ?? "they differ"}`);
    entry.last = recorder.refusal ? null : capture;
  }
}
