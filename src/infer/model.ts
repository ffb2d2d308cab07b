// A trained run put to work (index, serve, export, the library API): its target encoder
// (image → t) and query encoder (reference image + text → q) with the run's own preprocessing
// (image size, mean/std, vocabulary, max_words), in inference mode, compiled on torch like
// evaluation (src/eval/compiled-forward.ts). Embeddings come back L2-normalised, so an inner
// product is the cosine score sdfn ranks by.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { decodeImage, limiter } from "../data/images.js";
import { imageParams, type ImageOptions } from "../data/params.js";
import { loadingParams } from "../data/index.js";
import { loadVocabulary } from "../data/vocabulary.js";
import type { Vocabulary } from "../data/types.js";
import { compiledForward } from "../eval/compiled-forward.js";
import type { RetrievalNetwork } from "../eval/embed.js";
import { normalizeRows } from "../eval/retrieval.js";
import type { Network } from "../graph/compile.js";
import { inference } from "../nn/context.js";
import { loadRecipe, type LoadedRecipe } from "../recipe/index.js";
import { readCheckpoint, type CheckpointTag } from "../run/checkpoint.js";
import { RunDir, RunDirError } from "../run/run-dir.js";
import { openSession, type Session } from "../run/session.js";
import { InputError, imageInput, type ImageInput } from "./inputs.js";

export { InputError, type ImageInput } from "./inputs.js";

/** Which run and weights made an embedding: an index keeps it, and refuses another run's model. */
export interface RunIdentity {
  /** The run directory (absolute). */
  run: string;
  checkpoint: CheckpointTag;
  /** sha256 of the run's resolved recipe (the checkpoint's meta.recipeHash). */
  recipeHash: string;
  /** sha256 of the checkpoint's weights.safetensors (from its verified manifest). */
  weightsSha256: string;
}

/** Rows of L2-normalised float32 embeddings, row-major: row i is data[i·dim, (i+1)·dim). */
export interface Embeddings {
  count: number;
  dim: number;
  data: Float32Array;
}

/** A composed query: a reference image and the modification text. */
export interface Query {
  image: ImageInput;
  text: string;
}

/** Query embeddings and each query's routing path: per fusion layer, (M, R) (row i = module i's distribution; the last layer's output weights, R = 1). */
export interface QueryEmbeddings extends Embeddings {
  paths: number[][][][];
}

export interface OpenRunOptions {
  /** Which checkpoint (default "best", else "last" when the run has no best). */
  checkpoint?: CheckpointTag;
  /** tfjs backend (default: the run's recipe's, usually "auto"). */
  backend?: string;
  /** Run none of the run's plugins (a run with plugin modules then cannot be opened). */
  noPlugins?: boolean;
  /** The recipe to load instead of RUN_DIR/recipe.resolved.yaml (a run whose plugins live beside its original recipe). */
  recipe?: string;
  /** Warnings (a forward that falls back to eager, say); default: process.emitWarning. */
  warn?: (message: string) => void;
}

export interface EmbedOptions {
  /** Images per encoder pass (default: the recipe's evaluation.batch_size). */
  batchSize?: number;
  /** Called after each batch with the images done so far. */
  onProgress?: (done: number, total: number) => void;
}

/** What a text tokenizes to, checked against the model's limit. */
export interface Tokenized {
  ids: number[];
}

/** A run's encoders and preprocessing, ready for inference; `close()` frees its tensors. */
export class RunModel {
  /** Module type names per fusion layer (the routing paths' rows). */
  readonly layers: string[][];
  readonly dim: number;
  /** The most words a text may have (the recipe's data.max_words). */
  readonly maxWords: number;
  /** How images are decoded for this model (image_size, resize, pad_square, mean, std). */
  readonly imageOptions: ImageOptions;
  readonly batchSize: number;
  private readonly forward: RetrievalNetwork;
  private readonly decodeSlot = limiter(16);

  constructor(
    readonly identity: RunIdentity,
    readonly loaded: LoadedRecipe,
    readonly vocabulary: Vocabulary,
    readonly session: Session,
    /** The tfjs backend it runs on. */
    readonly backend: string,
    warn: (message: string) => void,
  ) {
    const { recipe } = loaded;
    const net: Network = session.network;
    this.layers = net.layers;
    this.dim = net.dim;
    const params = loaded.registry.resolve("dataset", recipe.data, "data").params as Record<string, unknown>;
    this.maxWords = loadingParams(params).max_words;
    this.imageOptions = imageOptionsOf(params);
    this.batchSize = recipe.evaluation.batch_size;
    // training.compile: on torch each batch shape is recorded and then replayed natively, as in evaluation
    this.forward = session.own(compiledForward(net, recipe.training.compile, warn, recipe.training.text_bucket)) ?? net;
  }

  /** Token ids of `text`; more words than the model reads is an InputError on `field`. */
  tokenize(text: string, field = "text"): Tokenized {
    if (typeof text !== "string") throw new InputError(field, `expected a string, got ${typeof text}`);
    const ids = this.vocabulary.encode(text);
    if (ids.length > this.maxWords) {
      throw new InputError(field, `has ${ids.length} words; this model reads at most ${this.maxWords} (data.max_words of the run's recipe): shorten it`);
    }
    // A text without a single word becomes one <unk>, as in training (max-pooling needs a word).
    return { ids: ids.length > 0 ? ids : [1] };
  }

  /** One image (a file or encoded bytes) → normalised (S, S, 3) floats, as evaluation decodes it; `field` names it in errors. */
  decodePixels(image: ImageInput, field: string): Promise<Float32Array> {
    return this.decodeSlot(async () => (await decodeImage(imageInput(image, field), { ...this.imageOptions, random_crop: false, flip: false })).data);
  }

  /** Decodes images into one (B, S, S, 3) tensor. */
  async decode(images: readonly ImageInput[], field = "image"): Promise<tf.Tensor4D> {
    const s = this.imageOptions.image_size;
    const out = new Float32Array(images.length * s * s * 3);
    await Promise.all(images.map(async (image, i) => out.set(await this.decodePixels(image, images.length > 1 ? `${field}[${i}]` : field), i * s * s * 3)));
    return tf.tensor4d(out, [images.length, s, s, 3]);
  }

  /** Normalised target embeddings t of a batch of decoded images: (B, d) floats. */
  async encodeTargets(images: tf.Tensor4D): Promise<Float32Array> {
    const t = tf.tidy(() => normalizeRows(this.forward.encodeTarget(images, inference)));
    try {
      return (await t.data()) as Float32Array;
    } finally {
      t.dispose();
    }
  }

  /** Normalised query embeddings q and routing paths of decoded references and tokenized texts. */
  async encodeQueries(references: tf.Tensor4D, texts: readonly Tokenized[]): Promise<{ data: Float32Array; paths: number[][][][] }> {
    const { tokens, mask } = padTokens(texts);
    try {
      const [q, ...paths] = tf.tidy(() => {
        const out = this.forward.encodeQuery({ reference: references, tokens, mask }, inference);
        return [normalizeRows(out.query), ...(out.paths ?? [])];
      });
      try {
        const layers = (await Promise.all(paths.map((p) => p.array()))) as number[][][][];
        return { data: (await q!.data()) as Float32Array, paths: texts.map((_, b) => layers.map((layer) => layer[b]!)) };
      } finally {
        tf.dispose([q!, ...paths]);
      }
    } finally {
      tf.dispose([tokens, mask]);
    }
  }

  /** Target embeddings of images, in batches; the next batch decodes while this one encodes. */
  async embedImages(images: readonly ImageInput[], o: EmbedOptions = {}): Promise<Embeddings> {
    const batch = o.batchSize ?? this.batchSize;
    const data = new Float32Array(images.length * this.dim);
    const decodeAt = (start: number) => this.decode(images.slice(start, start + batch), "images");
    let next = images.length > 0 ? decodeAt(0) : undefined;
    for (let start = 0; start < images.length; start += batch) {
      const pixels = await next!;
      next = start + batch < images.length ? decodeAt(start + batch) : undefined;
      next?.catch(() => {}); // awaited in the next round; an error there is reported then
      try {
        data.set(await this.encodeTargets(pixels), start * this.dim);
      } finally {
        pixels.dispose();
      }
      o.onProgress?.(Math.min(images.length, start + batch), images.length);
    }
    return { count: images.length, dim: this.dim, data };
  }

  /** Query embeddings of (reference image, text) pairs, in batches, with each query's routing path. */
  async embedQueries(queries: readonly Query[], o: EmbedOptions = {}): Promise<QueryEmbeddings> {
    const texts = queries.map((q, i) => this.tokenize(q.text, queries.length > 1 ? `queries[${i}].text` : "text"));
    const batch = o.batchSize ?? this.batchSize;
    const data = new Float32Array(queries.length * this.dim);
    const paths: number[][][][] = [];
    for (let start = 0; start < queries.length; start += batch) {
      const part = queries.slice(start, start + batch);
      const references = await this.decode(part.map((q) => q.image), "image");
      try {
        const out = await this.encodeQueries(references, texts.slice(start, start + batch));
        data.set(out.data, start * this.dim);
        paths.push(...out.paths);
      } finally {
        references.dispose();
      }
      o.onProgress?.(Math.min(queries.length, start + batch), queries.length);
    }
    return { count: queries.length, dim: this.dim, data, paths };
  }

  /** Frees the network and its compiled forwards. */
  close(): void {
    this.session.dispose();
  }
}

/** The image decoding options of a dataset's params (every dataset has image_size, mean and std; resize and pad_square default). */
export function imageOptionsOf(params: Record<string, unknown>): ImageOptions {
  const keys = Object.keys(imageParams).filter((k) => k in params);
  return z.object(imageParams).parse(Object.fromEntries(keys.map((k) => [k, params[k]])));
}

/** Token ids padded to the longest text: (B, T) int32 tokens and their float mask. */
export function padTokens(texts: readonly Tokenized[]): { tokens: tf.Tensor2D; mask: tf.Tensor2D } {
  const T = Math.max(1, ...texts.map((t) => t.ids.length));
  const tokens = new Int32Array(texts.length * T);
  const mask = new Float32Array(texts.length * T);
  texts.forEach(({ ids }, b) => {
    tokens.set(ids, b * T);
    mask.fill(1, b * T, b * T + ids.length);
  });
  return { tokens: tf.tensor2d(tokens, [texts.length, T], "int32"), mask: tf.tensor2d(mask, [texts.length, T]) };
}

/** The sha256 its verified manifest gives the checkpoint's weights file. */
function weightsDigest(weightsFile: string): string {
  const manifest = JSON.parse(readFileSync(join(dirname(weightsFile), "manifest.json"), "utf8")) as { files: Record<string, { sha256: string }> };
  const entry = manifest.files["weights.safetensors"];
  if (!entry) throw new RunDirError(`${join(dirname(weightsFile), "manifest.json")}: lists no weights.safetensors; the checkpoint is damaged`);
  return entry.sha256;
}

/**
 * Opens a run directory written by `sdfn build` for inference: its recipe, vocabulary and a
 * checkpoint's weights on the backend asked for. Errors are UserErrors naming the file.
 */
export async function openRun(dir: string, o: OpenRunOptions = {}): Promise<RunModel> {
  const run = new RunDir(dir);
  const recipeFile = o.recipe ?? run.recipe;
  if (!existsSync(recipeFile)) {
    throw new RunDirError(o.recipe ? `${resolve(o.recipe)}: no such recipe file` : `${run.path}: no recipe.resolved.yaml; give a run directory written by \`sdfn build\``);
  }
  const tag: CheckpointTag = o.checkpoint ?? (run.hasCheckpoint("best") || !run.hasCheckpoint("last") ? "best" : "last");
  const ckpt = readCheckpoint(run.path, tag, false); // verified; a missing or corrupt one names its file
  const loaded = await loadRecipe(recipeFile, { noPlugins: o.noPlugins });
  const { useBackend } = await import("../backend/index.js");
  const backendName = o.backend ?? loaded.recipe.backend;
  const backend = await useBackend(backendName).catch((err: Error) => {
    throw new RunDirError(`backend "${backendName}": ${err.message}`);
  });
  const vocabulary = await loadVocabulary(run.vocabulary);
  const session = await openSession(loaded, { vocabulary, checkpoint: ckpt, dataset: false });
  const identity: RunIdentity = { run: run.path, checkpoint: tag, recipeHash: ckpt.meta.recipeHash, weightsSha256: weightsDigest(ckpt.path) };
  const warn = o.warn ?? ((message: string) => process.emitWarning(message, { code: "SDFN_INFER" }));
  try {
    return new RunModel(identity, loaded, vocabulary, session, backend.name, warn);
  } catch (err) {
    session.dispose();
    throw err;
  }
}
