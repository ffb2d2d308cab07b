// What a user hands the model: an image as a file path or as encoded bytes (an upload), and a
// text. Bytes are checked before decoding: a JPEG, PNG or WebP signature (never an SVG or
// anything else libvips could open), and at most MAX_UPLOAD_PIXELS decoded pixels.
import type { ImageSourceBytes } from "../data/images.js";
import { UserError } from "../util/errors.js";

/** An image file's path, or its encoded bytes (JPEG, PNG or WebP). */
export type ImageInput = string | Uint8Array;

/** Decoded pixels an uploaded image may have (a 40-megapixel photo; a "decompression bomb" is refused). */
export const MAX_UPLOAD_PIXELS = 40_000_000;

/** Bad input in one field of a request (`image`, `text`, `queries[2].text`, `k`): exit 2 or HTTP 400 naming it. */
export class InputError extends UserError {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** The format of encoded image bytes by their signature, or undefined. */
export function imageFormat(bytes: Uint8Array): "jpeg" | "png" | "webp" | undefined {
  const at = (i: number, ...b: number[]) => b.every((v, j) => bytes[i + j] === v);
  if (at(0, 0xff, 0xd8, 0xff)) return "jpeg";
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "png";
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return "webp";
  return undefined;
}

/** A file path as it is; bytes checked to be a JPEG, PNG or WebP (else an InputError on `field`). */
export function imageInput(image: ImageInput, field: string): string | ImageSourceBytes {
  if (typeof image === "string") return image;
  if (!(image instanceof Uint8Array)) throw new InputError(field, "expected a file path or the bytes of a JPEG, PNG or WebP image");
  if (image.length === 0) throw new InputError(field, "is empty (0 bytes)");
  if (!imageFormat(image)) throw new InputError(field, `is not a JPEG, PNG or WebP image (${image.length} bytes without their signature)`);
  return { bytes: image, name: field, maxPixels: MAX_UPLOAD_PIXELS };
}
