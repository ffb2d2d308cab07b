import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { createLoader } from "../../src/data/loader.js";
import type { Augment, ImageSource, Pair } from "../../src/data/types.js";
import { buildVocabulary } from "../../src/data/vocabulary.js";
import { Rng } from "../../src/util/rng.js";

tf.env().set("IS_TEST", true);
const S = 2;

/** Images whose pixels encode their id and crop draw; records decode concurrency and order. */
function fakeSource(delayMs: number) {
  const log = { active: 0, maxActive: 0, started: [] as string[], augments: new Map<string, Augment | undefined>() };
  const source: ImageSource = {
    path: () => undefined,
    load: async (id, augment) => {
      log.active++;
      log.maxActive = Math.max(log.maxActive, log.active);
      log.started.push(id);
      log.augments.set(id, augment);
      await new Promise((r) => setTimeout(r, delayMs * (1 + (Number(id.slice(1)) % 3))));
      log.active--;
      return { data: new Float32Array(S * S * 3).fill(Number(id.slice(1))), height: S, width: S };
    },
  };
  return { source, log };
}

const pairs: Pair[] = Array.from({ length: 12 }, (_, i) => ({ id: i, reference: `r${i}`, target: `t${100 + i}`, text: i % 2 ? "a red dress" : "blue" }));
const vocab = buildVocabulary(pairs.map((p) => p.text));
const config = { image_size: S, max_words: 2, prefetch: 2, decode_concurrency: 3 };

describe("batch loader", () => {
  it("yields every pair once with matching pixels and tokens, and leaks nothing", async () => {
    const { source } = fakeSource(1);
    const loader = createLoader(source, vocab, config);
    const before = tf.memory().numTensors;
    const ids: number[] = [];
    for await (const b of loader.trainBatches(pairs, 5, new Rng(1))) {
      const ref = await b.reference.data();
      expect(b.ids.map((id, i) => ref[i * S * S * 3])).toEqual(b.ids); // reference pixels of pair id
      // "a red dress" is truncated to max_words = 2; "blue" is padded with 0 and masked.
      const T = b.tokens.shape[1];
      expect(await b.tokens.array()).toEqual(b.ids.map((id) => [...vocab.encode(pairs[id]!.text), 0, 0].slice(0, T)));
      expect(await b.mask.array()).toEqual(b.ids.map((id) => [1, id % 2, 0].slice(0, T)));
      ids.push(...b.ids);
      tf.dispose([b.reference, b.target, b.tokens, b.mask]);
    }
    // 12 pairs, batch 5 → 5, 5, 2.
    expect(ids.slice().sort((a, b) => a - b)).toEqual(pairs.map((p) => p.id));
    expect(tf.memory().numTensors).toBe(before);
  });

  it("decodes at most decode_concurrency images at once and runs prefetch batches ahead", async () => {
    const { source, log } = fakeSource(5);
    const loader = createLoader(source, vocab, config);
    const it = loader.trainBatches(pairs, 2, new Rng(1))[Symbol.asyncIterator]();
    const first = await it.next();
    tf.dispose(Object.values(first.value!).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
    // While the caller holds batch 1, batches 2 and 3 (prefetch 2) are being decoded: 3 batches × 4 images started.
    await new Promise((r) => setTimeout(r, 150));
    expect(log.started).toHaveLength(12);
    expect(log.maxActive).toBe(3);
    await it.return!(undefined);
  });

  it("draws the same augmentation whatever the decode timing", async () => {
    const runs = [];
    for (const [delay, concurrency] of [[0, 1], [3, 8]] as const) {
      const { source, log } = fakeSource(delay);
      const loader = createLoader(source, vocab, { ...config, decode_concurrency: concurrency });
      for await (const b of loader.trainBatches(pairs, 4, new Rng(7))) tf.dispose([b.reference, b.target, b.tokens, b.mask]);
      runs.push(Object.fromEntries(log.augments));
    }
    expect(runs[0]).toEqual(runs[1]);
  });

  it("reports a decoding failure from the batch that needed it", async () => {
    const source: ImageSource = { path: () => undefined, load: async (id) => { throw new Error(`bad image ${id}`); } };
    const loader = createLoader(source, vocab, config);
    const consume = async () => {
      for await (const b of loader.trainBatches(pairs, 4, new Rng(1))) tf.dispose([b.reference, b.target, b.tokens, b.mask]);
    };
    await expect(consume()).rejects.toThrow(/bad image/);
  });
});

describe("texts", () => {
  it("pads to the longest text and turns an empty one into a single <unk>", async () => {
    const loader = createLoader(fakeSource(0).source, vocab, config);
    const { tokens, mask } = loader.texts(["blue", "?!", "a red dress"]);
    expect(await tokens.array()).toEqual([[vocab.encode("blue")[0], 0], [1, 0], vocab.encode("a red")]);
    expect(await mask.array()).toEqual([[1, 0], [1, 0], [1, 1]]);
    tf.dispose([tokens, mask]);
  });
});

describe("evaluation image batches", () => {
  it("yields every id in order, in batches, decoded ahead", async () => {
    const { source, log } = fakeSource(1);
    const loader = createLoader(source, vocab, config);
    const ids = Array.from({ length: 7 }, (_, i) => `g${i}`);
    const seen: string[] = [];
    for await (const { ids: part, images } of loader.imageBatches(ids, 3)) {
      const px = await images.data();
      expect(part.map((_, i) => px[i * S * S * 3])).toEqual(part.map((id) => Number(id.slice(1))));
      seen.push(...part);
      images.dispose();
    }
    expect(seen).toEqual(ids);
    expect([...log.augments.values()].every((a) => a === undefined)).toBe(true); // no augmentation
  });
});

describe("resuming inside an epoch", () => {
  it("skips batches without decoding them and gives the same remaining batches", async () => {
    const full = fakeSource(0);
    const all: { ids: number[]; augments: unknown[] }[] = [];
    for await (const b of createLoader(full.source, vocab, config).trainBatches(pairs, 4, new Rng(5))) {
      all.push({ ids: b.ids, augments: b.ids.map((id) => full.log.augments.get(`r${id}`)) });
      tf.dispose([b.reference, b.target, b.tokens, b.mask]);
    }
    const resumed = fakeSource(0);
    const rest: typeof all = [];
    for await (const b of createLoader(resumed.source, vocab, config).trainBatches(pairs, 4, new Rng(5), { skip: 2 })) {
      rest.push({ ids: b.ids, augments: b.ids.map((id) => resumed.log.augments.get(`r${id}`)) });
      tf.dispose([b.reference, b.target, b.tokens, b.mask]);
    }
    expect(rest).toEqual(all.slice(2));
    expect(resumed.log.started).toHaveLength(8); // only the last batch's 4 pairs × 2 images decoded
  });
});
