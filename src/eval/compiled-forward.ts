// The evaluation forward compiled (training.compile): each input shape (a gallery batch, a query
// batch of one text length; the last short batch is its own) is run eagerly and recorded, then
// replayed natively by the backend's replay unit (src/backend/replay.ts); the program's outputs
// (embeddings, routing paths) stay on the device. Variables are read-only state (inference: no
// batch-norm update, no dropout). A forward that cannot be replayed turns replay off with one
// warning; evaluation goes on eagerly. The query encoder of a served run (src/infer/model.ts) is this too.
import * as tf from "@tensorflow/tfjs";

import { createReplayer, replayUnavailable, type Replayer, type ReplayProgram } from "../backend/replay.js";
import { padToBucket } from "../data/text-bucket.js";
import type { ForwardContext } from "../nn/context.js";
import type { RetrievalNetwork } from "./embed.js";

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
  private readonly unit: Replayer;

  /** On the active backend, which must be able to replay (compiledForward checks). */
  constructor(
    private readonly net: RetrievalNetwork,
    warn: (message: string) => void,
    private readonly textBucket = 1,
  ) {
    const made = createReplayer({ subject: "the evaluation forward", continues: "evaluation", warn });
    if ("unavailable" in made) throw new Error(`training.compile: ${made.unavailable}`);
    this.unit = made;
  }

  /** Why compilation was turned off (null while it is on). */
  get refused(): string | null {
    return this.unit.refused;
  }

  /** Programs built, forwards replayed and run eagerly since it was made. */
  get counts(): Readonly<ForwardCounts> {
    return this.unit.counts;
  }

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
  programs(): ReplayProgram[] {
    return this.unit.programs();
  }

  /** Frees every program (the forward stays usable: later batches record anew). */
  dispose(): void {
    this.unit.dispose();
  }

  /** The outputs of `run` on `inputs`: replayed when this shape has a program, else run eagerly and recorded. */
  private forward(kind: string, inputs: tf.Tensor[], run: () => tf.Tensor[]): tf.Tensor[] {
    const key = signature(kind, inputs);
    const replayed = this.unit.replay(key, inputs);
    if (replayed) return replayed.outputs;
    return this.unit.record(key, inputs, () => tf.tidy(run), { outputs: (outputs) => outputs, meta: () => undefined });
  }
}

/**
 * The evaluation forward for training.compile `mode` on the active backend, or undefined when it
 * runs eagerly (eager mode, a backend that cannot replay; the step compiler warns about those).
 */
export function compiledForward(net: RetrievalNetwork, mode: "auto" | "eager" | "replay", warn: (message: string) => void, textBucket = 1): CompiledForward | undefined {
  if (mode === "eager" || replayUnavailable()) return undefined;
  return new CompiledForward(net, warn, textBucket);
}
