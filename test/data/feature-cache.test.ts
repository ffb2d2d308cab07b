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
