// The safetensors format (https://github.com/huggingface/safetensors): 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?},
// then the raw little-endian tensor bytes. Shared by checkpoints, weight loading and the
// PyTorch reference. Reading converts F16/BF16/F64 to float32 and I64 to int32.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";

export type SafeDtype = "F32" | "F16" | "BF16" | "F64" | "I32" | "I64" | "I8" | "U8" | "BOOL";

/** A tensor as stored: float32 for every float dtype after reading; int32 for integer dtypes. */
export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

export interface SafetensorsFile {
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Record<SafeDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8, I8: 1, U8: 1, BOOL: 1 };

/**
 * Writes `tensors` to `path` atomically (a temporary file, then rename). The dtype defaults from
 * the array (F32, I32, U8); other dtypes take their raw little-endian bytes as a Uint8Array.
 */
export function writeSafetensors(
  path: string,
  tensors: Record<string, { dtype?: SafeDtype; shape: readonly number[]; data: Float32Array | Int32Array | Uint8Array }>,
  metadata: Record<string, string> = {},
): void {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const dtype = t.dtype ?? (t.data instanceof Float32Array ? "F32" : t.data instanceof Int32Array ? "I32" : "U8");
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count * DTYPE_BYTES[dtype] !== t.data.byteLength) {
      throw new Error(`safetensors: "${name}" has shape [${t.shape}] ${dtype} (${count} values) but ${t.data.byteLength} bytes of data`);
    }
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // align the data to 8 bytes (spaces are valid JSON)
  const head = Buffer.from(json, "utf8");
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(head.length));
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, length);
    writeSync(fd, head);
    for (const c of chunks) writeSync(fd, c);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Why a header entry does not describe a tensor (a hand-edited or foreign file), or undefined when it does. */
function entryProblem(entry: unknown): string | undefined {
  const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
  if (typeof e !== "object" || e === null) return "its entry is not an object";
  if (typeof e.dtype !== "string") return "no dtype";
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) return "its shape is not a list of sizes";
  const o = e.data_offsets;
  if (!Array.isArray(o) || o.length !== 2 || !o.every((x) => Number.isInteger(x) && x >= 0) || o[0] > o[1]) return "its data_offsets is not [begin, end]";
  return undefined;
}

/** Reads a safetensors file; throws naming the file when it is not one. */
export function readSafetensors(path: string): SafetensorsFile {
  return parseSafetensors(readFileSync(path), path);
}

/** A safetensors file's bytes (read by the caller) as tensors; `path` names it in errors. */
export function parseSafetensors(buf: Buffer, path: string): SafetensorsFile {
  if (buf.length < 8) throw new Error(`${path}: not a safetensors file (only ${buf.length} bytes)`);
  const headerLength = Number(buf.readBigUInt64LE(0));
  if (headerLength > buf.length - 8) throw new Error(`${path}: not a safetensors file (header length ${headerLength})`);
  let header: Record<string, { dtype: SafeDtype; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLength).toString("utf8"));
  } catch {
    throw new Error(`${path}: not a safetensors file (the header is not JSON)`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw new Error(`${path}: not a safetensors file (the header is not a JSON object)`);
  const base = 8 + headerLength;
  const tensors: Record<string, SafeTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = entry as unknown as Record<string, string>;
      continue;
    }
    const why = entryProblem(entry);
    if (why) throw new Error(`${path}: not a safetensors file (tensor "${name}": ${why})`);
    const [begin, end] = entry.data_offsets;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (!(entry.dtype in DTYPE_BYTES)) throw new Error(`${path}: "${name}" has unsupported dtype ${entry.dtype}`);
    if (end - begin !== count * DTYPE_BYTES[entry.dtype] || base + end > buf.length) {
      throw new Error(`${path}: "${name}" data [${begin}, ${end}) does not match shape [${entry.shape}] ${entry.dtype}`);
    }
    // copy into an aligned buffer: the data offset need not be a multiple of the element size
    const bytes = new Uint8Array(buf.buffer.slice(buf.byteOffset + base + begin, buf.byteOffset + base + end));
    tensors[name] = { dtype: entry.dtype, shape: entry.shape, data: decodeTensorData(entry.dtype, bytes, count) };
  }
  return { tensors, metadata };
}

/** `count` little-endian values of `dtype` (bytes aligned to the element size) as float32, int32 or bytes. */
export function decodeTensorData(dtype: SafeDtype, bytes: Uint8Array, count: number): Float32Array | Int32Array | Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case "F32":
      return new Float32Array(bytes.buffer, bytes.byteOffset, count);
    case "F64":
      return Float32Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true));
    case "F16":
      return Float32Array.from({ length: count }, (_, i) => halfToFloat(view.getUint16(i * 2, true)));
    case "BF16": {
      // bfloat16 is the top half of a float32
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return new Float32Array(bits.buffer);
    }
    case "I32":
      return new Int32Array(bytes.buffer, bytes.byteOffset, count);
    case "I64":
      return Int32Array.from({ length: count }, (_, i) => Number(view.getBigInt64(i * 8, true)));
    case "I8":
      return Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, count));
    case "U8":
    case "BOOL":
      return bytes;
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
