// src/io/safetensors.ts: round trips, the byte layout, half-precision decoding, errors.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensors, writeSafetensors } from "../../src/io/safetensors.js";

const dir = () => mkdtempSync(join(tmpdir(), "sdfn-st-"));

/** A file by hand: header JSON then raw bytes. */
function handMade(header: object, data: Uint8Array): string {
  const path = join(dir(), "hand.safetensors");
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, json, data]));
  return path;
}

describe("safetensors", () => {
  it("round-trips F32, I32 and U8 tensors with metadata, leaving no temporary file", () => {
    const d = dir();
    const path = join(d, "w.safetensors");
    writeSafetensors(
      path,
      {
        "a.weight": { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, -6.5]) },
        "b.ids": { shape: [3], data: Int32Array.from([7, -8, 9]) },
        "c.flags": { shape: [2], data: Uint8Array.from([0, 255]) },
        "d.scalar": { shape: [], data: Float32Array.from([0.25]) },
      },
      { format: "pt" },
    );
    const { tensors, metadata } = readSafetensors(path);
    expect(metadata).toEqual({ format: "pt" });
    expect(tensors["a.weight"]).toEqual({ dtype: "F32", shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, -6.5]) });
    expect(tensors["b.ids"]).toEqual({ dtype: "I32", shape: [3], data: Int32Array.from([7, -8, 9]) });
    expect(tensors["c.flags"]!.data).toEqual(Uint8Array.from([0, 255]));
    expect(tensors["d.scalar"]!.shape).toEqual([]);
    expect(readdirSync(d)).toEqual(["w.safetensors"]);
  });

  it("writes the documented layout: u64 header length, JSON with data_offsets, 8-byte aligned data", () => {
    const path = join(dir(), "x.safetensors");
    writeSafetensors(path, { x: { shape: [2], data: Float32Array.from([1, 2]) } });
    const buf = readFileSync(path);
    const n = Number(buf.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    expect(JSON.parse(buf.subarray(8, 8 + n).toString())).toEqual({ x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } });
    expect(buf.length).toBe(8 + n + 8);
    expect(buf.readFloatLE(8 + n + 4)).toBe(2);
  });

  it("decodes F16, BF16, F64 to float32 and I64 to int32", () => {
    const data = Buffer.alloc(4 + 4 + 16 + 16);
    data.writeUInt16LE(0x3c00, 0); // 1.0 in half precision
    data.writeUInt16LE(0xc100, 2); // -2.5
    data.writeUInt16LE(0x3f80, 4); // 1.0 in bfloat16
    data.writeUInt16LE(0xc020, 6); // -2.5
    data.writeDoubleLE(0.1, 8);
    data.writeDoubleLE(-3, 16);
    data.writeBigInt64LE(5n, 24);
    data.writeBigInt64LE(-7n, 32);
    const path = handMade(
      {
        h: { dtype: "F16", shape: [2], data_offsets: [0, 4] },
        b: { dtype: "BF16", shape: [2], data_offsets: [4, 8] },
        d: { dtype: "F64", shape: [2], data_offsets: [8, 24] },
        i: { dtype: "I64", shape: [2], data_offsets: [24, 40] },
      },
      data,
    );
    const { tensors } = readSafetensors(path);
    expect(Array.from(tensors.h!.data)).toEqual([1, -2.5]);
    expect(Array.from(tensors.b!.data)).toEqual([1, -2.5]);
    expect(Array.from(tensors.d!.data)).toEqual([Math.fround(0.1), -3]);
    expect(tensors.i!.data).toEqual(Int32Array.from([5, -7]));
  });

  it("names the file and the tensor when the data does not fit the header", () => {
    const path = handMade({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8));
    expect(() => readSafetensors(path)).toThrow(/hand\.safetensors: "w" data \[0, 8\) does not match shape \[3\] F32/);
    const junk = join(dir(), "junk.bin");
    writeFileSync(junk, "not a safetensors file at all");
    expect(() => readSafetensors(junk)).toThrow(/junk\.bin: not a safetensors file/);
  });

  it("names the file and the tensor when a header entry is not a tensor's (a hand edit): no JavaScript error", () => {
    const data = new Uint8Array(8);
    const cases: [object, string][] = [
      [{ w: { dtype: "F32", shape: [2] } }, 'tensor "w": its data_offsets is not [begin, end]'],
      [{ w: { dtype: "F32", shape: "2", data_offsets: [0, 8] } }, 'tensor "w": its shape is not a list of sizes'],
      [{ w: { shape: [2], data_offsets: [0, 8] } }, 'tensor "w": no dtype'],
      [{ w: null }, 'tensor "w": its entry is not an object'],
      [[1, 2], "the header is not a JSON object"],
    ];
    for (const [header, why] of cases) {
      const path = handMade(header, data);
      expect(() => readSafetensors(path)).toThrow(`${path}: not a safetensors file (${why})`);
    }
  });

  it("refuses data whose length does not match the shape", () => {
    const path = join(dir(), "bad.safetensors");
    expect(() => writeSafetensors(path, { x: { shape: [4], data: new Float32Array(3) } })).toThrow(/"x" has shape \[4\] F32 \(4 values\) but 12 bytes/);
    expect(existsSync(path)).toBe(false);
  });
});
