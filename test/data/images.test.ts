import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeImage } from "../../src/data/images.js";
import type { ImageOptions } from "../../src/data/params.js";

let dir: string;
// 40×20: left half red, right half blue.
const halves = () => {
  const raw = Buffer.alloc(40 * 20 * 3);
  for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) raw.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * 40 + x) * 3);
  return sharp(raw, { raw: { width: 40, height: 20, channels: 3 } });
};
const options = (o: Partial<ImageOptions> = {}): ImageOptions => ({
  image_size: 8,
  resize: 10,
  random_crop: true,
  flip: true,
  pad_square: false,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  ...o,
});
/** Red channel along the first row: 1 = red, 0 = blue. */
const redRow = (data: Float32Array, s = 8) => Array.from({ length: s }, (_, x) => Math.round(data[x * 3]!));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sdfn-img-"));
  await writeFile(join(dir, "a.png"), await halves().png().toBuffer());
  await writeFile(join(dir, "a.jpg"), await halves().jpeg({ quality: 95 }).toBuffer());
  await writeFile(join(dir, "a.webp"), await halves().webp({ lossless: true }).toBuffer());
  await writeFile(join(dir, "rgba.png"), await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer());
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("decodeImage", () => {
  it("resizes the shorter side and center-crops for evaluation", async () => {
    // 40×20 → 20×10; the 8×8 center crop starts at x = 6: columns 6..9 red, 10..13 blue.
    const p = await decodeImage(join(dir, "a.png"), options());
    expect([p.height, p.width]).toEqual([8, 8]);
    expect(redRow(p.data)).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
  });

  it("decodes JPEG and WebP the same way", async () => {
    for (const f of ["a.jpg", "a.webp"]) expect(redRow((await decodeImage(join(dir, f), options())).data)).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
  });

  it("random-crops at the drawn offset and flips for training", async () => {
    const left = await decodeImage(join(dir, "a.png"), options(), { cropX: 0, cropY: 0, flip: false });
    expect(redRow(left.data)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    const right = await decodeImage(join(dir, "a.png"), options(), { cropX: 0.999, cropY: 0, flip: false });
    expect(redRow(right.data)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const flipped = await decodeImage(join(dir, "a.png"), options(), { cropX: 0.5, cropY: 0.5, flip: true });
    expect(redRow(flipped.data)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    // random_crop/flip off: training falls back to the center crop.
    const fixed = await decodeImage(join(dir, "a.png"), options({ random_crop: false, flip: false }), { cropX: 0, cropY: 0, flip: true });
    expect(redRow(fixed.data)).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
  });

  it("pads to a white square and normalises with mean/std", async () => {
    // contain in 10×10: the 10×5 picture sits between white bands; the crop starts at y = 1 (white).
    const p = await decodeImage(join(dir, "a.png"), options({ pad_square: true, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }));
    expect(Array.from(p.data.subarray(0, 3))).toEqual([1, 1, 1]);
    const middle = (4 * 8 + 0) * 3; // row 4 (inside the picture), column 0 → red
    expect(Array.from(p.data.subarray(middle, middle + 3)).map((v) => Math.round(v))).toEqual([1, -1, -1]);
  });

  it("flattens transparency onto white", async () => {
    const p = await decodeImage(join(dir, "rgba.png"), options({ image_size: 4, resize: 4 }));
    expect(Array.from(p.data.subarray(0, 3))).toEqual([1, 1, 1]);
  });
});
