// A cache of frozen-backbone features: one safetensors file per (image, encoder,
// weights) key under a directory, so features are computed once and reused across
// epochs and runs. Keys change when the image file, the encoder parameters or the
// weights change; files are written to a temporary name and renamed.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";

export interface CachedFeatures {
  data: Float32Array;
  shape: number[];
}

/** JSON with object keys sorted at every level, so equal parameters hash equally. */
export function canonicalJSON(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJSON(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const hashes = new Map<string, string>(); // "path|mtime|size" → sha256

/** sha256 of a file's bytes (streamed; remembered per path, mtime and size). */
export async function fileHash(file: string): Promise<string> {
  const s = await stat(file);
  const memo = `${resolve(file)}|${s.mtimeMs}|${s.size}`;
  const known = hashes.get(memo);
  if (known) return known;
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const hex = hash.digest("hex");
  hashes.set(memo, hex);
  return hex;
}

export interface EncoderIdentity {
  /** Encoder type, e.g. "resnet50". */
  name: string;
  /** Everything that changes its output: params, image size, normalisation. */
  params: unknown;
  /** `fileHash` of the weights file ("" for none). */
  weights: string;
}

/** The cache key of one image under one encoder: sha256 of path, mtime, size, encoder, params and weights hash. */
export async function imageCacheKey(imageFile: string, encoder: EncoderIdentity): Promise<string> {
  const s = await stat(imageFile);
  const identity = canonicalJSON({
    image: resolve(imageFile),
    mtime: s.mtimeMs,
    size: s.size,
    encoder: encoder.name,
    params: encoder.params,
    weights: encoder.weights,
  });
  return createHash("sha256").update(identity).digest("hex");
}

/** safetensors bytes holding one float32 tensor named "features". */
function encodeSafetensors(data: Float32Array, shape: number[]): Buffer {
  let header = JSON.stringify({ features: { dtype: "F32", shape, data_offsets: [0, data.byteLength] } });
  header += " ".repeat((8 - (header.length % 8)) % 8); // keep the data 8-byte aligned
  const out = Buffer.alloc(8 + header.length + data.byteLength);
  out.writeBigUInt64LE(BigInt(header.length), 0);
  out.write(header, 8, "utf8");
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 8 + header.length);
  return out;
}

function decodeSafetensors(bytes: Buffer, file: string): CachedFeatures {
  const n = Number(bytes.readBigUInt64LE(0));
  const entry = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8")).features;
  if (!entry || entry.dtype !== "F32") throw new Error(`${file}: not a feature cache entry (expected an F32 tensor "features")`);
  const [from, to] = entry.data_offsets as [number, number];
  const raw = bytes.subarray(8 + n + from, 8 + n + to);
  const data = new Float32Array(raw.byteLength / 4);
  Buffer.from(data.buffer).set(raw);
  return { data, shape: entry.shape };
}

export class FeatureCache {
  /** Lookups answered from disk and lookups that had to compute, since creation. */
  readonly stats = { hits: 0, misses: 0 };

  constructor(readonly dir: string) {}

  private file(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.safetensors`);
  }

  /** The stored features of `key`, or undefined. */
  async get(key: string): Promise<CachedFeatures | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.file(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    return decodeSafetensors(bytes, this.file(key));
  }

  async set(key: string, data: Float32Array, shape: number[]): Promise<void> {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`feature cache: shape [${shape}] holds ${size} values, got ${data.length}`);
    const file = this.file(key);
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, encodeSafetensors(data, shape));
    await rename(tmp, file);
  }

  /**
   * Features for every key: the stored ones are read, the rest computed in one call
   * (`compute` receives the indices of the missing keys, returns their features in order) and stored.
   */
  async getOrCompute(
    keys: readonly string[],
    compute: (missing: number[]) => Promise<CachedFeatures[]>,
  ): Promise<CachedFeatures[]> {
    const found = await Promise.all(keys.map((k) => this.get(k)));
    // Each missing key is computed once, at its first position.
    const first = new Map<string, number>();
    found.forEach((f, i) => {
      if (!f && !first.has(keys[i]!)) first.set(keys[i]!, i);
    });
    const missing = [...first.values()];
    this.stats.misses += missing.length;
    this.stats.hits += keys.length - missing.length;
    if (missing.length > 0) {
      const computed = await compute(missing);
      if (computed.length !== missing.length) {
        throw new Error(`feature cache: compute returned ${computed.length} results for ${missing.length} keys`);
      }
      await Promise.all(missing.map((i, j) => this.set(keys[i]!, computed[j]!.data, computed[j]!.shape)));
      const byKey = new Map(missing.map((i, j) => [keys[i]!, computed[j]!]));
      keys.forEach((k, i) => {
        found[i] ??= byKey.get(k);
      });
    }
    return found as CachedFeatures[];
  }
}
