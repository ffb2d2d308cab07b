// Image decoding with sharp (JPEG, PNG, WebP): resize the shorter side (or pad to
// a white square first), crop (center for evaluation, random + flip for training)
// and normalise to float32 (H, W, 3).
import sharp from "sharp";
import { UserError } from "../util/errors.js";
import { resizeOf, type ImageOptions } from "./params.js";
import type { Augment, Pixels } from "./types.js";

const WHITE = { r: 255, g: 255, b: 255 };

/** An image file that cannot be used (missing, not an image, truncated, too small): the user's data to fix, exit 2. */
export class ImageError extends UserError {}

/** Decoded, resized RGB bytes (H, W, 3). */
interface Rgb {
  data: Uint8Array;
  height: number;
  width: number;
}

/** Where an image comes from: a file, or encoded bytes (an upload) named `name` in errors, decoded up to `maxPixels`. */
export type ImageSourceBytes = { bytes: Uint8Array; name: string; maxPixels: number };

async function decodeResized(input: string | ImageSourceBytes, o: Pick<ImageOptions, "image_size" | "resize" | "pad_square">): Promise<Rgb> {
  const r = resizeOf(o);
  const file = typeof input === "string" ? input : input.name;
  // a cut-off file is an error naming it, not grey pixels; bytes from elsewhere are bounded in decoded pixels too
  const image = (typeof input === "string" ? sharp(input, { failOn: "truncated" }) : sharp(input.bytes, { failOn: "truncated", limitInputPixels: input.maxPixels }))
    .rotate().flatten({ background: WHITE });
  // contain: pad to an r×r white square; outside: shorter side = r, aspect kept.
  const resized = o.pad_square
    ? image.resize(r, r, { fit: "contain", background: WHITE })
    : image.resize(r, r, { fit: "outside" });
  try {
    const { data, info } = await resized.toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
    return { data: toRgb(data, info.channels), height: info.height, width: info.width };
  } catch (err) {
    // sharp's messages ("VipsJpeg: premature end of input file") do not say which file.
    throw new ImageError(`${file}: cannot decode the image (${(err as Error).message})`);
  }
}

/** Drops alpha or expands grey so every pixel has 3 bytes. */
function toRgb(data: Uint8Array, channels: number): Uint8Array {
  if (channels === 3) return data;
  const n = data.length / channels;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = data[i * channels + (channels < 3 ? 0 : c)]!;
  }
  return out;
}

/** One table per channel: byte → (byte / 255 − mean) / std, built once per option set. */
const luts = new WeakMap<object, Float32Array>();
function lutOf(o: Pick<ImageOptions, "mean" | "std">): Float32Array {
  let lut = luts.get(o);
  if (!lut) {
    lut = new Float32Array(768);
    for (let c = 0; c < 3; c++) for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - o.mean[c]!) / o.std[c]!;
    luts.set(o, lut);
  }
  return lut;
}

/**
 * Crops an s×s window at (x0, y0) of `rgb`, optionally mirrored, normalises it
 * ((byte / 255 − mean) / std per channel) and writes the (s, s, 3) floats into
 * `out` from `offset` on: a batch buffer is filled in place, with no per-image copy.
 */
export function cropNormaliseInto(
  rgb: Rgb,
  s: number,
  x0: number,
  y0: number,
  flip: boolean,
  o: Pick<ImageOptions, "mean" | "std">,
  out: Float32Array,
  offset: number,
): void {
  if (offset + s * s * 3 > out.length) throw new Error(`cropNormaliseInto: ${s}×${s}×3 floats do not fit at ${offset} of ${out.length}`);
  const lut = lutOf(o);
  const data = rgb.data;
  const step = flip ? -3 : 3;
  let dst = offset;
  for (let y = 0; y < s; y++) {
    let src = ((y0 + y) * rgb.width + x0 + (flip ? s - 1 : 0)) * 3;
    for (let x = 0; x < s; x++, src += step, dst += 3) {
      out[dst] = lut[data[src]!]!;
      out[dst + 1] = lut[256 + data[src + 1]!]!;
      out[dst + 2] = lut[512 + data[src + 2]!]!;
    }
  }
}

/** cropNormaliseInto a new (s, s, 3) buffer. */
export function cropNormalise(
  rgb: Rgb,
  s: number,
  x0: number,
  y0: number,
  flip: boolean,
  o: Pick<ImageOptions, "mean" | "std">,
): Pixels {
  const out = new Float32Array(s * s * 3);
  cropNormaliseInto(rgb, s, x0, y0, flip, o, out, 0);
  return { data: out, height: s, width: s };
}

/**
 * One image file → normalised (image_size, image_size, 3) written into `out` at `offset`;
 * `augment` given = training crop/flip.
 */
export async function decodeImageInto(input: string | ImageSourceBytes, o: ImageOptions, augment: Augment | undefined, out: Float32Array, offset: number): Promise<void> {
  const rgb = await decodeResized(input, o);
  const file = typeof input === "string" ? input : input.name;
  const s = o.image_size;
  if (rgb.width < s || rgb.height < s) {
    throw new ImageError(`${file}: resized to ${rgb.width}×${rgb.height}, smaller than image_size ${s}; raise data.resize`);
  }
  const random = augment && o.random_crop;
  const x0 = random ? Math.floor(augment.cropX * (rgb.width - s + 1)) : (rgb.width - s) >> 1;
  const y0 = random ? Math.floor(augment.cropY * (rgb.height - s + 1)) : (rgb.height - s) >> 1;
  cropNormaliseInto(rgb, s, x0, y0, Boolean(augment?.flip && o.flip), o, out, offset);
}

/** One image file → normalised (image_size, image_size, 3); `augment` given = training crop/flip. */
export async function decodeImage(input: string | ImageSourceBytes, o: ImageOptions, augment?: Augment): Promise<Pixels> {
  const s = o.image_size;
  const out = new Float32Array(s * s * 3);
  await decodeImageInto(input, o, augment, out, 0);
  return { data: out, height: s, width: s };
}

/** Runs at most `n` of the given async tasks at once (a finished task hands its slot to the next). */
export function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < n) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      release();
    }
  };
}

export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp"];
