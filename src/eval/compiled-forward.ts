// The evaluation forward compiled on the torch backend (training.compile): each input shape
// (a gallery batch, a query batch of one text length; the last short batch is its own) is run
// eagerly and recorded twice; two captures that agree become a native program whose outputs
// (embeddings, routing paths) stay on the device, and every later batch of that shape is one
// replay. Variables are read-only state (inference: no batch-norm update, no dropout). A forward
// that cannot be replayed (a cpu fallback, a readback, an undeclared value that changes) turns
// compilation off with one warning; evaluation goes on eagerly.
import * as tf from "@tensorflow/tfjs";

import type { TorchBackend } from "../backend/torch/backend.js";
import { plan, StepProgram } from "../backend/torch/program.js";
import type { Capture } from "../backend/torch/recorder.js";
import { padToBucket } from "../data/text-bucket.js";
import type { ForwardContext } from "../nn/context.js";
import type { RetrievalNetwork } from "./embed.js";

/** Captures of one shape that may disagree before the forward is given up on (a lazily built constant, say). */
const MAX_CAPTURES = 4;

interface Entry {
  last: Capture | null;
  captures: number;
  program: StepProgram | null;
}

type QueryInput = Parameters<RetrievalNetwork["encodeQuery"]>[0];

/** Programs built, forwards replayed and forwards run eagerly so far. */
export interface ForwardCounts {
  programs: number;
  replayed: number;
  eager: number;
}

/** Tokens and mask padded to a multiple of `bucket` words (src/data/text-bucket.ts). */
function padTexts(input: QueryInput, bucket: number): { input: QueryInput; made: tf.Tensor[] } {
  const { tokens, mask, made } = padToBucket(input.tokens, input.mask, bucket);
  return { input: { reference: input.reference, tokens, mask }, made };
}

const signature = (kind: string, inputs: readonly tf.Tensor[]) => `${kind} ${inputs.map((t) => `${t.dtype}[${t.shape}]`).join(" ")}`;

/** A RetrievalNetwork whose inference forwards are replayed natively (training forwards pass through). */
export class CompiledForward implements RetrievalNetwork {
  /** Why compilation was turned off (null while it is on). */
  refused: string | null = null;
  readonly counts: ForwardCounts = { programs: 0, replayed: 0, eager: 0 };
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly net: RetrievalNetwork,
    private readonly backend: TorchBackend,
    private readonly warn: (message: string) => void,
    private readonly textBucket = 1,
  ) {}

  encodeTarget(images: tf.Tensor4D, fc: ForwardContext): tf.Tensor2D {
    if (fc.training || this.refused) return this.net.encodeTarget(images, fc);
    return this.forward("target", [images], () => [this.net.encodeTarget(images, fc)])[0] as tf.Tensor2D;
  }

  encodeQuery(given: QueryInput, fc: ForwardContext): { query: tf.Tensor2D; paths?: tf.Tensor3D[] } {
    if (fc.training || this.refused) return this.net.encodeQuery(given, fc);
    const { input, made } = padTexts(given, this.textBucket);
    try {
      const [query, ...paths] = this.forward("query", [input.reference, input.tokens, input.mask], () => {
        const out = this.net.encodeQuery(input, fc);
        return [out.query, ...(out.paths ?? [])];
      });
      return { query: query as tf.Tensor2D, ...(paths.length ? { paths: paths as tf.Tensor3D[] } : {}) };
    } finally {
      tf.dispose(made);
    }
  }

  /** The programs built so far. */
  programs(): StepProgram[] {
    return [...this.entries.values()].flatMap((e) => (e.program ? [e.program] : []));
  }

  /** Frees every program (the forward stays usable: later batches record anew). */
  dispose(): void {
    for (const e of this.entries.values()) e.program?.dispose();
    this.entries.clear();
  }

  /** Turns compilation off (one warning) and frees every program. */
  private refuse(reason: string): void {
    if (this.refused) return;
    this.refused = reason;
    this.warn(`training.compile: the evaluation forward cannot be replayed natively (${reason}); evaluation continues eagerly`);
    this.dispose();
  }

  /** The outputs of `run` on `inputs`: replayed when this shape has a program, else run eagerly and recorded. */
  private forward(kind: string, inputs: tf.Tensor[], run: () => tf.Tensor[]): tf.Tensor[] {
    const key = signature(kind, inputs);
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { last: null, captures: 0, program: null }));
    if (entry.program) {
      this.counts.replayed++;
      return entry.program.replay(inputs, {}, 0).outputs;
    }
    const recorder = this.backend.startRecording();
    let outputs: tf.Tensor[];
    try {
      outputs = tf.tidy(run);
    } finally {
      this.backend.stopRecording();
    }
    this.counts.eager++;
    const capture = recorder.finish(inputs, outputs);
    if (recorder.refusal && !recorder.transient) this.refuse(recorder.refusal);
    else this.learn(entry, recorder.refusal ? null : capture);
    return outputs;
  }

  /** A new capture (null: a transient refusal) compared with the previous one; a program once two agree. */
  private learn(entry: Entry, capture: Capture | null): void {
    entry.captures++;
    const planned = capture && entry.last ? plan(entry.last, capture) : null;
    if (planned && typeof planned !== "string") {
      entry.program = new StepProgram(this.backend, planned, 0);
      entry.last = null;
      this.counts.programs++;
      return;
    }
    if (entry.captures >= MAX_CAPTURES) return this.refuse(typeof planned === "string" ? planned : "no two recorded forwards of one shape agreed");
    entry.last = capture;
  }
}

/**
 * The evaluation forward for training.compile `mode` on the active backend, or undefined when it
 * runs eagerly (eager mode, another backend than torch, an addon without programs; the step
 * compiler warns about those).
 */
export function compiledForward(net: RetrievalNetwork, mode: "auto" | "eager" | "replay", warn: (message: string) => void, textBucket = 1): CompiledForward | undefined {
  if (mode === "eager" || tf.getBackend() !== "torch") return undefined;
  const backend = tf.backend() as TorchBackend;
  if (typeof backend.native.addon.programCreate !== "function") return undefined;
  return new CompiledForward(net, backend, warn, textBucket);
}
