// NumPy's .npy format (version 1.0): a magic string, a Python-literal header giving dtype and
// shape, then the raw little-endian data. numpy.load, FAISS (through numpy) and Milvus' bulk
// import read it; sdfn keeps a catalogue's embeddings in it. Only what sdfn writes is read back:
// float32 matrices, int64 vectors and fixed-width unicode vectors.
import { readFileSync } from "node:fs";

const MAGIC = Buffer.from([0x93, ...Buffer.from("NUMPY"), 1, 0]);

/** The file bytes of an array: `descr` is numpy's dtype string ("<f4", "<i8", "<U12"). */
function npyBytes(descr: string, shape: readonly number[], data: Uint8Array): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  // magic (8) + length (2) + header, padded with spaces and a newline to a multiple of 64 bytes
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, " ") + "\n";
  const length = Buffer.alloc(2);
  length.writeUInt16LE(header.length);
  return Buffer.concat([MAGIC, length, Buffer.from(header, "latin1"), data]);
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A (rows, cols) float32 matrix as .npy bytes. */
export function npyFloat32(data: Float32Array, rows: number, cols: number): Buffer {
  if (data.length !== rows * cols) throw new Error(`npyFloat32: ${data.length} values are not ${rows}×${cols}`);
  return npyBytes("<f4", [rows, cols], bytesOf(data));
}

/** An int64 vector as .npy bytes. */
export function npyInt64(values: readonly number[]): Buffer {
  return npyBytes("<i8", [values.length], bytesOf(BigInt64Array.from(values, (v) => BigInt(v))));
}

/** A vector of strings as numpy's fixed-width unicode ("<U{n}", UTF-32LE code points, zero-padded). */
export function npyUnicode(values: readonly string[]): Buffer {
  const points = values.map((s) => Array.from(s, (c) => c.codePointAt(0)!));
  const width = Math.max(1, ...points.map((p) => p.length));
  const out = new Uint32Array(values.length * width);
  points.forEach((p, i) => out.set(p, i * width));
  return npyBytes(`<U${width}`, [values.length], bytesOf(out));
}

export interface NpyArray {
  descr: string;
  shape: number[];
  /** The raw data after the header. */
  data: Uint8Array;
}

/** Parses .npy bytes; `name` (the file) goes into the error when they are not a C-ordered array sdfn reads. */
export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC.subarray(0, 6))) throw new Error(`${name}: not a .npy file (no \\x93NUMPY signature)`);
  const major = buf[6]!;
  const headerLength = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + headerLength).toString("latin1");
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shape === undefined || /'fortran_order':\s*True/.test(header)) throw new Error(`${name}: a .npy header sdfn does not read (${header.trim().slice(0, 80)})`);
  const dims = shape.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  return { descr, shape: dims, data: bytes.subarray(start + headerLength) };
}

/** A float32 (rows, cols) matrix from a .npy file; a wrong dtype, shape or length is an error naming the file. */
export function readNpyFloat32(file: string): { rows: number; cols: number; data: Float32Array } {
  const a = parseNpy(readFileSync(file), file);
  if (a.descr !== "<f4" || a.shape.length !== 2) throw new Error(`${file}: expected a float32 matrix ('<f4', 2 dimensions), got '${a.descr}' of shape (${a.shape})`);
  const [rows, cols] = a.shape as [number, number];
  if (a.data.byteLength !== rows * cols * 4) throw new Error(`${file}: holds ${a.data.byteLength} data bytes, the header says ${rows}×${cols} float32 (${rows * cols * 4}); the file is cut off or damaged`);
  // the header pads the data to a multiple of 64 bytes from the file start; copy when the buffer is not aligned
  const data = a.data.byteOffset % 4 === 0 ? new Float32Array(a.data.buffer, a.data.byteOffset, rows * cols) : new Float32Array(a.data.slice().buffer);
  return { rows, cols, data };
}
