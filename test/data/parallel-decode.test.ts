// The loader's parallel decode of real files (sharp on libuv's pool, each image written in place
// into its batch buffer): the same pixels as decoding one file at a time, in batch order, errors
// that name the file, and batch buffers reused only where the backend copies them.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BufferPool } from "../../src/data/buffers.js";
import { fileImages } from "../../src/data/files.js";
import { decodeImage, ImageError } from "../../src/data/images.js";
import { createLoader } from "../../src/data/loader.js";
import type { ImageOptions } from "../../src/data/params.js";
import type { Pair } from "../../src/data/types.js";
import { buildVocabulary } from "../../src/data/vocabulary.js";
import { Rng } from "../../src/util/rng.js";

tf.env().set("IS_TEST", true);
const S = 12;
const N = 10;
const options: ImageOptions = { image_size: S, resize: 16, random_crop: true, flip: true, pad_square: false, mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] };
let dir: string;
const ids = Array.from({ length: N }, (_, i) => `im${i}`);
const path = (id: string) => join(dir, `${id}.${Number(id.slice(2)) % 2 ? "jpg" : "png"}`);

/** A 30×20 image whose gradient depends on `seed` (JPEG for odd seeds, PNG for even). */
async function makeImage(file: string, seed: number): Promise<void> {
  const [w, h] = [30, 20];
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set([(x * 8 + seed * 23) & 255, (y * 12 + seed * 5) & 255, (x * y + seed) & 255], (y * w + x) * 3);
  const img = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  await writeFile(file, await (seed % 2 ? img.jpeg({ quality: 90 }) : img.png()).toBuffer());
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sdfn-par-"));
  await Promise.all(ids.map((id, i) => makeImage(path(id), i)));
  await writeFile(join(dir, "broken.jpg"), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])); // a JPEG header, then nothing
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const pairs: Pair[] = ids.map((id, i) => ({ id: i, reference: id, target: ids[(i + 3) % N]!, text: "x" }));
const vocab = buildVocabulary(["x"]);
const loaderOf = (concurrency: number, locate: (id: string) => string | undefined = path) =>
  createLoader(fileImages(locate, options), vocab, { image_size: S, max_words: 4, prefetch: 2, decode_concurrency: concurrency });

async function epoch(concurrency: number): Promise<{ ids: number[]; reference: number[]; target: number[] }[]> {
  const out: { ids: number[]; reference: number[]; target: number[] }[] = [];
  for await (const b of loaderOf(concurrency).trainBatches(pairs, 4, new Rng(3))) {
    out.push({ ids: b.ids, reference: Array.from(await b.reference.data()), target: Array.from(await b.target.data()) });
    tf.dispose([b.reference, b.target, b.tokens, b.mask]);
  }
  return out;
}

describe("parallel decode of files", () => {
  it("gives exactly the pixels of one-at-a-time decoding, each image at its batch index", async () => {
    const serial = await epoch(1);
    const parallel = await epoch(8);
    expect(parallel).toEqual(serial);
    // Evaluation batches (center crop) against decodeImage of each file alone.
    const loader = loaderOf(8);
    let k = 0;
    for await (const { ids: part, images } of loader.imageBatches(ids, 4)) {
      const px = await images.data();
      for (let i = 0; i < part.length; i++, k++) {
        expect(part[i]).toBe(ids[k]);
        const alone = (await decodeImage(path(ids[k]!), options)).data;
        expect(Array.from(px.subarray(i * S * S * 3, (i + 1) * S * S * 3))).toEqual(Array.from(alone));
      }
      images.dispose();
    }
    expect(k).toBe(N);
  });

  it("names the file that fails to decode", async () => {
    const loader = loaderOf(4, (id) => (id === "im5" ? join(dir, "broken.jpg") : path(id)));
    const consume = async () => {
      for await (const b of loader.imageBatches(ids, 4)) b.images.dispose();
    };
    await expect(consume()).rejects.toThrow(`${join(dir, "broken.jpg")}: cannot decode the image`);
    await expect(decodeImage(join(dir, "absent.png"), options)).rejects.toThrow(`${join(dir, "absent.png")}: cannot decode the image`);
  });

  it("refuses a truncated file (a user's data error, exit 2) instead of decoding grey pixels", async () => {
    const whole = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 9, g: 99, b: 199 } } }).jpeg().toBuffer();
    const cut = join(dir, "cut.jpg");
    await writeFile(cut, whole.subarray(0, whole.length >> 1));
    const failure = await decodeImage(cut, options).then(() => undefined, (err: Error) => err);
    expect(failure?.message).toMatch(new RegExp(`^${cut.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: cannot decode the image`));
    expect(failure).toBeInstanceOf(ImageError);
    expect((failure as ImageError).exitCode).toBe(2);
  });

  it("keeps every tensor's pixels on a backend that does not copy (cpu): buffers are not reused there", async () => {
    const loader = loaderOf(4);
    const batches: tf.Tensor4D[] = [];
    for await (const { images } of loader.imageBatches(ids.slice(0, 8), 2)) batches.push(images);
    for (let b = 0; b < batches.length; b++) {
      const alone = (await decodeImage(path(ids[2 * b]!), options)).data;
      expect(Array.from((await batches[b]!.data()).subarray(0, S * S * 3))).toEqual(Array.from(alone));
    }
    tf.dispose(batches);
  });
});

describe("BufferPool", () => {
  it("hands a buffer back out only where the backend copied it, up to `keep`", () => {
    let copies = true;
    const pool = new BufferPool(6, 1, () => copies);
    const a = pool.take();
    const b = pool.take();
    expect(a).not.toBe(b);
    pool.give(a);
    pool.give(b); // over `keep`
    expect(pool.available).toBe(1);
    expect(pool.take()).toBe(a);
    copies = false;
    pool.give(a);
    expect(pool.available).toBe(0);
    pool.give(new Float32Array(5)); // another size never enters
    expect(pool.available).toBe(0);
  });
});
