// Small images for pages: an image id's evaluation pixels (as the network sees them),
// un-normalised to bytes, resized and encoded as a data URI (PNG for small generated
// images, JPEG for photos), so an HTML page stays one file.
import * as tf from "@tensorflow/tfjs";
import sharp from "sharp";
import type { BatchLoader } from "../data/types.js";

export interface ThumbnailOptions {
  /** The normalisation the loader applied: byte = (x·std + mean)·255. */
  mean: readonly number[];
  std: readonly number[];
  /** Side of the thumbnail in pixels. */
  size: number;
}

/** (H, W, 3) normalised floats → RGB bytes. */
export function toBytes(pixels: Float32Array, mean: readonly number[], std: readonly number[]): Buffer {
  const out = Buffer.alloc(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const c = i % 3;
    out[i] = Math.max(0, Math.min(255, Math.round((pixels[i]! * std[c]! + mean[c]!) * 255)));
  }
  return out;
}

/** id → data URI for each id (decoded once each). */
export async function thumbnails(loader: Pick<BatchLoader, "images">, ids: readonly string[], o: ThumbnailOptions): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const id of new Set(ids)) {
    const batch = await loader.images([id], { train: false });
    const [, h, w] = batch.shape;
    const data = (await batch.data()) as Float32Array;
    batch.dispose();
    out[id] = await encodeThumbnail(toBytes(data, o.mean, o.std), w, h, o.size);
  }
  return out;
}

/** An encoded thumbnail and its media type. */
export interface Thumbnail {
  bytes: Buffer;
  type: "image/png" | "image/jpeg";
}

/** RGB bytes → an image of side `size` (small images scaled up without blur, as PNG; photos as JPEG). */
export async function thumbnailOf(rgb: Buffer, width: number, height: number, size: number): Promise<Thumbnail> {
  const small = Math.max(width, height) < size;
  const img = sharp(rgb, { raw: { width, height, channels: 3 } }).resize(size, size, { fit: "inside", kernel: small ? "nearest" : "lanczos3" });
  return small ? { bytes: await img.png().toBuffer(), type: "image/png" } : { bytes: await img.jpeg({ quality: 75 }).toBuffer(), type: "image/jpeg" };
}

/** RGB bytes → a data URI of side `size` (thumbnailOf). */
export async function encodeThumbnail(rgb: Buffer, width: number, height: number, size: number): Promise<string> {
  const { bytes, type } = await thumbnailOf(rgb, width, height, size);
  return `data:${type};base64,${bytes.toString("base64")}`;
}
