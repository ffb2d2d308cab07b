// How an epoch's training pairs become batches: the one rule the loaders follow (src/data/loader.ts,
// the feature cache's src/data/backbone-cache.ts) and the steps per epoch are counted by (the
// schedule, the progress line, where a resume starts).

/** One epoch's batching, as the recipe's training section gives it. */
export interface EpochBatching {
  /** Pairs a batch: batch_size, times the world size in a data-parallel run (each rank takes a slice). */
  size: number;
  /**
   * Drop a last batch smaller than `size` (training.drop_last; always in a data-parallel run, whose
   * ranks need equal slices). A last batch of one pair is dropped anyway: it has no in-batch negative.
   */
  dropLast: boolean;
  /** At most this many batches (training.max_steps_per_epoch; 0: all). */
  maxBatches: number;
}

/** Batches in an epoch of `pairs` training pairs. */
export function batchesPerEpoch(pairs: number, b: EpochBatching): number {
  if (!(b.size >= 1)) throw new Error(`batch size must be at least 1, got ${b.size}`);
  const rest = pairs % b.size;
  const all = Math.floor(pairs / b.size) + (!b.dropLast && rest >= 2 ? 1 : 0);
  return b.maxBatches > 0 ? Math.min(all, b.maxBatches) : all;
}

/** The epoch's batches of `order` (shuffled already): consecutive slices of `size`, as many as batchesPerEpoch says. */
export function epochBatches<T>(order: readonly T[], b: EpochBatching): T[][] {
  return Array.from({ length: batchesPerEpoch(order.length, b) }, (_, i) => order.slice(i * b.size, (i + 1) * b.size));
}
