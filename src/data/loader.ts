// The batch loader: shuffles, draws the augmentation, decodes images concurrently
// (straight into the batch buffer, each at its index) and keeps `prefetch` batches in
// flight while the caller computes on the current one. Pixels stay in Float32Arrays
// until a batch is handed over, so a consumer that stops early leaks no tensors.
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.js";
import { BufferPool } from "./buffers.js";
import { epochBatches } from "./epoch-batches.js";
import { limiter } from "./images.js";
import { UNK } from "./vocabulary.js";
import type { Augment, BatchLoader, EpochOptions, ImageSource, Pair, Pixels, TrainBatch, Vocabulary } from "./types.js";

export interface LoaderConfig {
  image_size: number;
  max_words: number;
  prefetch: number;
  decode_concurrency: number;
}

interface PreparedBatch {
  ids: number[];
  reference: Float32Array; // (B, S, S, 3)
  target: Float32Array;
  texts: string[];
}

const drawAugment = (rng: Rng): Augment => ({ cropX: rng.next(), cropY: rng.next(), flip: rng.next() < 0.5 });

/**
 * Yields prepare(0), prepare(1), … in order, keeping up to `depth` of the next
 * ones running while the caller works on the current one (depth 0: one at a time).
 */
async function* ahead<T>(count: number, prepare: (i: number) => Promise<T>, depth: number): AsyncGenerator<T> {
  const pending: Promise<T>[] = [];
  let next = 0;
  const start = () => {
    const p = prepare(next++);
    p.catch(() => {}); // a rejection surfaces when awaited below, never as an unhandled one
    pending.push(p);
  };
  while (pending.length > 0 || next < count) {
    if (pending.length === 0) start();
    const done = await pending.shift()!;
    while (pending.length < depth && next < count) start();
    yield done;
  }
}

/** One epoch's batches: `pairs` shuffled with `rng`, cut as src/data/epoch-batches.ts says (global batches of world × batchSize with a shard). */
export function batchOrder(pairs: readonly Pair[], batchSize: number, rng: Rng, opts: EpochOptions = {}): Pair[][] {
  const world = opts.shard && opts.shard.world > 1 ? opts.shard.world : 1;
  // Data-parallel: a last incomplete global batch is dropped (as DDP's drop_last): every rank needs a slice.
  return epochBatches(rng.shuffle(pairs), { size: batchSize * world, dropLast: (opts.dropLast ?? false) || world > 1, maxBatches: opts.maxBatches ?? 0 });
}

/** This process's part of each global batch in a data-parallel run: the rank-th of `world` equal slices. */
export interface Shard {
  rank: number;
  world: number;
}

export function createLoader(source: ImageSource, vocabulary: Vocabulary, config: LoaderConfig): BatchLoader {
  const run = limiter(config.decode_concurrency);
  const s = config.image_size;
  const pixelsPerImage = s * s * 3;
  // Full batches' buffers (2 per training batch, `prefetch` batches ahead plus the current one).
  const pools = new Map<number, BufferPool>();
  const poolFor = (images: number) => {
    let pool = pools.get(images);
    if (!pool) pools.set(images, (pool = new BufferPool(images * pixelsPerImage, 2 * (config.prefetch + 2))));
    return pool;
  };

  /** One image into `out` at image slot `i`: in place when the source can, else through its own buffer. */
  async function loadOne(id: string, augment: Augment | undefined, out: Float32Array, i: number): Promise<void> {
    if (source.loadInto) return source.loadInto(id, augment, out, i * pixelsPerImage);
    const p: Pixels = await source.load(id, augment);
    if (p.data.length !== pixelsPerImage) {
      throw new Error(`image "${id}": decoded to ${p.height}×${p.width}, expected ${s}×${s}`);
    }
    out.set(p.data, i * pixelsPerImage);
  }

  /** Decodes `ids` into one (B, S, S, 3) buffer, each image at its index; augment[i] given = training crop/flip. */
  async function decodeInto(ids: readonly string[], augment: (Augment | undefined)[]): Promise<Float32Array> {
    const out = poolFor(ids.length).take();
    await Promise.all(ids.map((id, i) => run(() => loadOne(id, augment[i], out, i))));
    return out;
  }

  /** A (B, S, S, 3) tensor of a decoded buffer, which then goes back to its pool. */
  function imageTensor(data: Float32Array, images: number): tf.Tensor4D {
    const t = tf.tensor4d(data, [images, s, s, 3]);
    poolFor(images).give(data);
    return t;
  }

  function texts(list: readonly string[]): { tokens: tf.Tensor2D; mask: tf.Tensor2D } {
    // A text without a single word becomes one <unk>, so no row is fully masked (max-pool needs a word).
    const encoded = list.map((t) => {
      const ids = vocabulary.encode(t).slice(0, config.max_words);
      return ids.length > 0 ? ids : [UNK];
    });
    const T = Math.max(1, ...encoded.map((e) => e.length));
    const tokens = new Int32Array(list.length * T);
    const mask = new Float32Array(list.length * T);
    encoded.forEach((ids, b) => {
      tokens.set(ids, b * T);
      mask.fill(1, b * T, b * T + ids.length);
    });
    return { tokens: tf.tensor2d(tokens, [list.length, T], "int32"), mask: tf.tensor2d(mask, [list.length, T]) };
  }

  async function prepare(global: readonly Pair[], rng: Rng, shard?: Shard): Promise<PreparedBatch> {
    // Drawn synchronously in batch order: the augmentation never depends on decode timing.
    // A rank draws its whole global batch's augmentation and keeps its slice (src/dist).
    const [from, to] = shard ? [shard.rank * (global.length / shard.world), (shard.rank + 1) * (global.length / shard.world)] : [0, global.length];
    const refAug = global.map(() => drawAugment(rng)).slice(from, to);
    const tgtAug = global.map(() => drawAugment(rng)).slice(from, to);
    const batch = global.slice(from, to);
    const [reference, target] = await Promise.all([
      decodeInto(batch.map((p) => p.reference), refAug),
      decodeInto(batch.map((p) => p.target), tgtAug),
    ]);
    return { ids: batch.map((p) => p.id), reference, target, texts: batch.map((p) => p.text) };
  }

  function toTensors(p: PreparedBatch): TrainBatch {
    const B = p.ids.length;
    return {
      ids: p.ids,
      reference: imageTensor(p.reference, B),
      target: imageTensor(p.target, B),
      ...texts(p.texts),
    };
  }

  async function* trainBatches(pairs: readonly Pair[], batchSize: number, rng: Rng, opts: EpochOptions & { skip?: number } = {}): AsyncGenerator<TrainBatch> {
    const shard = opts.shard && opts.shard.world > 1 ? opts.shard : undefined;
    const batches = batchOrder(pairs, batchSize, rng, opts);
    const augRng = rng.fork(0x5eed);
    // Skipped batches (a resumed epoch) still consume their augmentation draws, so the rest match.
    const skip = Math.min(opts.skip ?? 0, batches.length);
    for (let i = 0; i < skip; i++) for (let j = 0; j < batches[i]!.length * 2; j++) drawAugment(augRng);
    // prepare() draws the augmentation when called, and calls happen in batch order.
    const rest = batches.slice(skip);
    for await (const prepared of ahead(rest.length, (i) => prepare(rest[i]!, augRng, shard), config.prefetch)) {
      yield toTensors(prepared);
    }
  }

  async function* imageBatches(ids: readonly string[], batchSize: number): AsyncGenerator<{ ids: string[]; images: tf.Tensor4D }> {
    const parts: string[][] = [];
    for (let i = 0; i < ids.length; i += batchSize) parts.push(ids.slice(i, i + batchSize));
    const decode = (i: number) => decodeInto(parts[i]!, parts[i]!.map(() => undefined));
    for await (const [i, data] of ahead(parts.length, async (i) => [i, await decode(i)] as const, config.prefetch)) {
      yield { ids: parts[i]!, images: imageTensor(data, parts[i]!.length) };
    }
  }

  async function images(ids: readonly string[], opts: { train?: boolean; rng?: Rng } = {}): Promise<tf.Tensor4D> {
    const rng = opts.rng;
    if (opts.train && !rng) throw new Error("loader.images: train: true needs an rng for the crop/flip draws");
    const augment = ids.map(() => (opts.train ? drawAugment(rng!) : undefined));
    return imageTensor(await decodeInto(ids, augment), ids.length);
  }

  return { trainBatches, imageBatches, images, texts };
}
