// The one batch-count rule (src/data/epoch-batches.ts): the steps per epoch a session reports are
// the batches the loader yields, for drop_last, max_steps_per_epoch and data-parallel shards, and
// the loader decodes nothing beyond them (training.drop_last's short batch, a capped epoch's rest).
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";

import { batchesPerEpoch, epochBatches } from "../../src/data/epoch-batches.js";
import { createLoader } from "../../src/data/loader.js";
import type { EpochOptions, ImageSource, Pair } from "../../src/data/types.js";
import { buildVocabulary } from "../../src/data/vocabulary.js";
import { Rng } from "../../src/util/rng.js";

tf.env().set("IS_TEST", true);

describe("batches per epoch", () => {
  it("counts full batches, a short last one of at least 2 pairs unless drop_last, at most max_steps_per_epoch", () => {
    const count = (pairs: number, size: number, dropLast = false, maxBatches = 0) => batchesPerEpoch(pairs, { size, dropLast, maxBatches });
    expect(count(44, 8)).toBe(6); // 5 × 8 + 4
    expect(count(44, 8, true)).toBe(5);
    expect(count(41, 8)).toBe(5); // 5 × 8 + 1: a batch of one pair has no in-batch negative
    expect(count(44, 8, true, 3)).toBe(3);
    expect(count(44, 8, false, 10)).toBe(6);
    expect(count(1, 8)).toBe(0);
    expect(count(7, 1)).toBe(7); // batch_size 1: every pair is a full batch
    expect(() => count(4, 0)).toThrow(/batch size must be at least 1/);
  });

  it("cuts consecutive slices, as many as it counts", () => {
    const order = Array.from({ length: 11 }, (_, i) => i);
    expect(epochBatches(order, { size: 4, dropLast: false, maxBatches: 0 })).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]);
    expect(epochBatches(order, { size: 4, dropLast: true, maxBatches: 0 })).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(epochBatches(order, { size: 5, dropLast: false, maxBatches: 0 })).toEqual([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]);
    expect(epochBatches(order, { size: 4, dropLast: false, maxBatches: 1 })).toEqual([[0, 1, 2, 3]]);
  });
});

describe("the loader follows it", () => {
  const pairs: Pair[] = Array.from({ length: 22 }, (_, i) => ({ id: i, reference: `r${i}`, target: `t${i}`, text: "a word" }));
  const vocab = buildVocabulary(["a word"]);

  /** An epoch's batch sizes and the images decoded for it (prefetching 2 batches ahead). */
  async function epoch(opts: EpochOptions & { skip?: number }, batchSize = 4) {
    const decoded: string[] = [];
    const source: ImageSource = {
      path: () => undefined,
      load: async (id) => {
        decoded.push(id);
        return { data: new Float32Array(12), height: 2, width: 2 };
      },
    };
    const loader = createLoader(source, vocab, { image_size: 2, max_words: 2, prefetch: 2, decode_concurrency: 2 });
    const sizes: number[] = [];
    for await (const b of loader.trainBatches(pairs, batchSize, new Rng(3), opts)) {
      sizes.push(b.ids.length);
      tf.dispose([b.reference, b.target, b.tokens, b.mask]);
    }
    return { sizes, decoded: decoded.length };
  }

  it("yields the counted batches and decodes only their images", async () => {
    const size = { size: 4, dropLast: false, maxBatches: 0 };
    expect(await epoch({})).toEqual({ sizes: [4, 4, 4, 4, 4, 2], decoded: 2 * 22 });
    expect((await epoch({})).sizes).toHaveLength(batchesPerEpoch(22, size));
    // drop_last: the short batch is neither yielded nor decoded
    expect(await epoch({ dropLast: true })).toEqual({ sizes: [4, 4, 4, 4, 4], decoded: 2 * 20 });
    expect(batchesPerEpoch(22, { ...size, dropLast: true })).toBe(5);
    // max_steps_per_epoch 2: nothing prefetched beyond the second batch
    expect(await epoch({ maxBatches: 2 })).toEqual({ sizes: [4, 4], decoded: 2 * 8 });
    // a resumed epoch skips undecoded, and still stops at the cap
    expect(await epoch({ maxBatches: 3, skip: 1 })).toEqual({ sizes: [4, 4], decoded: 2 * 8 });
  });

  it("gives a rank its slice of world × batch_size global batches, a short last one dropped", async () => {
    const world = { size: 2 * 4, dropLast: true, maxBatches: 0 };
    const rank = await epoch({ shard: { rank: 1, world: 2 } });
    expect(rank.sizes).toEqual([4, 4]); // 22 pairs: 2 global batches of 8, 6 left over
    expect(rank.sizes).toHaveLength(batchesPerEpoch(22, world));
    expect(rank.decoded).toBe(2 * 8);
  });
});
