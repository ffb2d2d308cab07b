import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FeatureCache, fileHash, imageCacheKey } from "../../src/data/feature-cache.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sdfn-cache-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("FeatureCache", () => {
  it("stores and reads features; computes only the missing ones, once", async () => {
    const cache = new FeatureCache(join(dir, "features"));
    const calls: number[][] = [];
    const compute = async (missing: number[]) => {
      calls.push(missing);
      return missing.map((i) => ({ data: Float32Array.from([i, i + 0.5, -i, 1e-7]), shape: [2, 2] }));
    };
    await cache.set("k1", Float32Array.from([9, 8, 7, 6]), [1, 2, 2]);
    const first = await cache.getOrCompute(["k0", "k1", "k2"], compute);
    expect(calls).toEqual([[0, 2]]);
    expect(Array.from(first[1]!.data)).toEqual([9, 8, 7, 6]);
    expect(first[1]!.shape).toEqual([1, 2, 2]);
    // A second run (a new cache object on the same directory) computes nothing.
    const again = new FeatureCache(join(dir, "features"));
    const second = await again.getOrCompute(["k0", "k1", "k2"], compute);
    expect(calls).toHaveLength(1);
    expect(Array.from(second[2]!.data)).toEqual(Array.from(Float32Array.from([2, 2.5, -2, 1e-7])));
    expect(again.stats).toEqual({ hits: 3, misses: 0 });
    expect(await again.get("nothing")).toBeUndefined();
  });

  it("keys change with the image file, the encoder parameters and the weights", async () => {
    const image = join(dir, "img.jpg");
    await writeFile(image, "abc");
    const enc = { name: "resnet50", params: { dim: 8, image_size: 224 }, weights: await fileHash(image) };
    const k = await imageCacheKey(image, enc);
    expect(await imageCacheKey(image, { ...enc, params: { image_size: 224, dim: 8 } })).toBe(k); // key order does not matter
    expect(await imageCacheKey(image, { ...enc, params: { dim: 16, image_size: 224 } })).not.toBe(k);
    expect(await imageCacheKey(image, { ...enc, weights: "other" })).not.toBe(k);
    await utimes(image, new Date(0), new Date(1000));
    expect(await imageCacheKey(image, enc)).not.toBe(k);
    expect(await fileHash(image)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"); // sha256("abc")
  });
});

describe("cachedBackbone", () => {
  it("computes backbone maps once per image and serves them from disk afterwards", async () => {
    const tf = await import("@tensorflow/tfjs");
    const { cachedBackbone } = await import("../../src/data/backbone-cache.js");
    const { openDataset } = await import("../../src/data/index.js");
    const { createRegistry } = await import("../../src/builtins.js");
    const ds = await openDataset(
      { seed: 0, data: { dataset: "shapes", train_pairs: 4, test_references: 2, test_edits: 2, image_size: 8 } },
      createRegistry(),
    );
    let computed = 0;
    // A stand-in frozen backbone: 2×2 average pooling, (B, 8, 8, 3) → (B, 4, 4, 3).
    const encoder = {
      backboneFrozen: true,
      backbone: (images: import("@tensorflow/tfjs").Tensor4D) => ((computed += images.shape[0]), tf.avgPool(images, 2, 2, "valid")),
    };
    const make = () =>
      cachedBackbone({
        loader: ds.loader,
        imagePath: ds.imagePath,
        encoder,
        cache: new FeatureCache(join(dir, "backbone")),
        identity: { name: "avgpool", params: { image_size: 8 }, weights: "" },
        fc: { training: false, seed: () => 0 },
      });
    const ids = [ds.train[0]!.reference, ds.train[1]!.reference, ds.train[0]!.reference];
    const before = tf.memory().numTensors;
    const first = await make().maps(ids);
    expect(first.shape).toEqual([3, 4, 4, 3]);
    expect(computed).toBe(2); // the repeated image once
    const images = await ds.loader.images(ids);
    const expected = tf.avgPool(images, 2, 2, "valid");
    expect(Array.from(await first.data())).toEqual(Array.from(await expected.data()));
    tf.dispose([images, expected]);
    // A new run: everything from disk, nothing computed.
    const second = await make().maps(ids);
    expect(computed).toBe(2);
    expect(Array.from(await second.data())).toEqual(Array.from(await first.data()));
    tf.dispose([first, second]);
    // Training batches of maps: the loader's epoch order, maps in place of pixels.
    const { Rng } = await import("../../src/util/rng.js");
    const order: number[][] = [];
    for await (const b of ds.loader.trainBatches(ds.train, 2, new Rng(4))) {
      order.push(b.ids);
      tf.dispose([b.reference, b.target, b.tokens, b.mask]);
    }
    const cachedOrder: number[][] = [];
    for await (const b of make().trainBatches(ds.train, 2, new Rng(4))) {
      expect(b.reference.shape).toEqual([2, 4, 4, 3]);
      cachedOrder.push(b.ids);
      tf.dispose([b.reference, b.target, b.tokens, b.mask]);
    }
    expect(cachedOrder).toEqual(order);
    expect(tf.memory().numTensors).toBe(before);
    const trainable = { backboneFrozen: false, backbone: encoder.backbone };
    expect(() =>
      cachedBackbone({ loader: ds.loader, imagePath: ds.imagePath, encoder: trainable, cache: new FeatureCache(dir), identity: { name: "resnet50", params: {}, weights: "" }, fc: { training: false, seed: () => 0 } }),
    ).toThrow(/image encoder "resnet50" has no frozen backbone/);
  });
});
