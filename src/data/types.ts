// The data layer's batches: a training batch and the loader that makes them. The dataset
// contract (pairs, evaluation sets, images, the vocabulary) is a kind contract, declared with
// the other kinds in src/registry/kinds-data.ts.
import type * as tf from "@tensorflow/tfjs";
import type { Pair } from "../registry/kinds-data.js";
import type { Rng } from "../util/rng.js";

export type { Augment, Baselines, DatasetBuildContext, DatasetSource, EvalQuery, EvalSet, ImageSource, Pair, Pixels, Vocabulary } from "../registry/kinds-data.js";

export interface TrainBatch {
  /** Pair ids, in batch order. */
  ids: number[];
  reference: tf.Tensor4D; // (B, H, W, 3) normalised
  target: tf.Tensor4D; // (B, H, W, 3) normalised
  tokens: tf.Tensor2D; // (B, T) int32, 0-padded
  mask: tf.Tensor2D; // (B, T) float32, 1 for a word
}

/** How an epoch is cut into batches beyond the batch size (src/data/epoch-batches.ts). */
export interface EpochOptions {
  /** training.drop_last: no last batch smaller than the batch size. */
  dropLast?: boolean;
  /** training.max_steps_per_epoch: at most this many batches (0: all). */
  maxBatches?: number;
  /** A data-parallel run: this rank's slice of global batches of world × batchSize (a short last one dropped). */
  shard?: { rank: number; world: number };
}

/** Prefetching batches; every tensor it returns belongs to the caller (dispose it). */
export interface BatchLoader {
  /**
   * One epoch: shuffles `pairs` with `rng`, cuts its batches (src/data/epoch-batches.ts: exactly the
   * epoch's steps, nothing decoded beyond them), decodes ahead. `skip`: leave out the first batches
   * without decoding them (a resumed epoch); the rest are exactly the batches (and augmentations) an
   * unskipped epoch would give.
   */
  trainBatches(pairs: readonly Pair[], batchSize: number, rng: Rng, opts?: EpochOptions & { skip?: number }): AsyncIterable<TrainBatch>;
  /** Evaluation images (center crop) in batches of `batchSize`, decoded `prefetch` batches ahead. */
  imageBatches(ids: readonly string[], batchSize: number): AsyncIterable<{ ids: string[]; images: tf.Tensor4D }>;
  /** Images by id, (B, H, W, 3); `train: true` applies the training augmentation (random crop, flip). */
  images(ids: readonly string[], opts?: { train?: boolean; rng?: Rng }): Promise<tf.Tensor4D>;
  /** Tokenised texts, padded to the longest (at most max_words). */
  texts(texts: readonly string[]): { tokens: tf.Tensor2D; mask: tf.Tensor2D };
}
