// src/io/state-dict.ts on real PyTorch files, written here by Debian's python3-torch and
// python3-torchvision (test/io/make_torch_files.py; nothing is committed): torchvision's
// resnet18 state dict in the zip and the legacy format against PyTorch's own sums, dtypes,
// strided views, a training checkpoint, and the files it must refuse — naming the key or
// the byte offset, and never running what a pickle names.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readStateDict, StateDictError } from "../../src/io/state-dict.js";
import { writeSafetensors } from "../../src/io/safetensors.js";
import { missing, PYTHON } from "../support/requires.js";

const MAKE = join(import.meta.dirname, "make_torch_files.py");

/** The error `fn` throws (the test fails when it throws none). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error");
}

describe.skipIf(missing("pythonTorch", "torchvision"))("PyTorch files as torch.save writes them", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sdfn-pth-"));
    execFileSync(PYTHON, [MAKE, "formats", dir], { stdio: ["ignore", "ignore", "pipe"], cwd: dir });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads torchvision's resnet18 state dict (zip): every tensor's shape and sum as PyTorch has them, and the file's SHA-256", () => {
    const file = join(dir, "resnet18.pth");
    const sd = readStateDict(file);
    const sums = JSON.parse(readFileSync(join(dir, "resnet18.sums.json"), "utf8")) as Record<string, { shape: number[]; sum: number }>;
    expect(sd.format).toBe("torch zip");
    expect([...sd.tensors.keys()]).toEqual(Object.keys(sums)); // the state dict's order
    for (const [name, want] of Object.entries(sums)) {
      const t = sd.tensors.get(name)!;
      expect(t.shape, name).toEqual(want.shape);
      const sum = Array.from(t.data).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - want.sum), name).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(want.sum)));
    }
    expect(sd.tensors.get("bn1.num_batches_tracked")).toMatchObject({ dtype: "I64", shape: [] });
    expect(sd.sha256).toBe(createHash("sha256").update(readFileSync(file)).digest("hex"));
  });

  it("reads the legacy format (_use_new_zipfile_serialization=False) to the same tensors", () => {
    const zip = readStateDict(join(dir, "resnet18.pth")).tensors;
    const legacy = readStateDict(join(dir, "resnet18-legacy.pth"));
    expect(legacy.format).toBe("torch legacy");
    expect([...legacy.tensors.keys()]).toEqual([...zip.keys()]);
    const bytes = (d: ArrayBufferView) => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    for (const [name, t] of legacy.tensors) expect(bytes(t.data).equals(bytes(zip.get(name)!.data)), name).toBe(true);
  });

  it("converts f16, bf16, f64 and i64, and reads strided views (a transpose, a slice at an offset) in row-major order", () => {
    const t = readStateDict(join(dir, "dtypes.pth")).tensors;
    expect(Array.from(t.get("half")!.data)).toEqual([1.5, -2.25, 65504]);
    expect(Array.from(t.get("bfloat")!.data).slice(0, 2)).toEqual([1.5, -2.25]);
    expect(t.get("bfloat")!.data[2]).toBeCloseTo(3.0041e38, -34); // bf16's nearest to 3e38
    expect(Array.from(t.get("double")!.data)).toEqual(Array.from(Float32Array.from([0.1, 0.2, 0.3, 0.4])));
    expect(Array.from(t.get("long")!.data)).toEqual([7, -8, 2 ** 30]);
    // base = arange(24).reshape(4, 6): its transpose (6, 4) and base[1:3, 2:5]
    expect(t.get("transposed")!.shape).toEqual([6, 4]);
    expect(Array.from(t.get("transposed")!.data)).toEqual(Array.from({ length: 24 }, (_, i) => (i % 4) * 6 + Math.floor(i / 4)));
    expect(t.get("slice")!.shape).toEqual([2, 3]);
    expect(Array.from(t.get("slice")!.data)).toEqual([8, 9, 10, 14, 15, 16]);
  });

  it("takes the state dict out of a training checkpoint ({epoch, state_dict})", () => {
    const t = readStateDict(join(dir, "checkpoint.pth")).tensors;
    expect([...t.keys()]).toEqual(["weight", "bias"]);
    expect(Array.from(t.get("weight")!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(t.get("bias")!.data)).toEqual([0.5, -0.5, 1.5]);
  });

  it("refuses a pickle that is not a state dict, naming what it holds", () => {
    const err = thrown(() => readStateDict(join(dir, "list.pth")));
    expect(err).toBeInstanceOf(StateDictError);
    expect(err.message).toBe(`${join(dir, "list.pth")}: the pickle holds a list or tuple of 2, not a state dict (a mapping of names to tensors); save model.state_dict()`);
  });

  it("refuses a pickled module (torch.save(model)) at the byte offset of the global it names", () => {
    const err = thrown(() => readStateDict(join(dir, "model.pth")));
    expect(err).toBeInstanceOf(StateDictError);
    expect(err.message).toMatch(
      /model\.pth \(model\/data\.pkl\): byte \d+ \(pickle from byte 0\): the pickle names the global torch\.nn\.modules\.linear\.Linear, which is not part of a state dict; sdfn reads tensors, OrderedDicts and storages and never runs code from a weights file: save the model's state_dict\(\) instead$/,
    );
  });

  it("never runs what a pickle names: os.system is refused, and nothing ran", () => {
    const err = thrown(() => readStateDict(join(dir, "evil.pth")));
    expect(err.message).toMatch(/evil\.pth \(archive\/data\.pkl\): byte \d+ .*the global (posix|os)\.system, which is not part of a state dict/);
    expect(existsSync(join(dir, "evil-ran"))).toBe(false);
    expect(existsSync("evil-ran")).toBe(false);
  });

  it("refuses a truncated zip, naming the byte where it ends", () => {
    const file = join(dir, "truncated.pth");
    const size = readFileSync(file).length;
    expect(thrown(() => readStateDict(file)).message).toBe(
      `${file}: the zip archive ends at byte ${size} without its end record (the central directory is missing): ` +
        `the file is truncated, e.g. an interrupted download; download or copy it again`,
    );
  });

  it("refuses a truncated legacy file at the storage it cuts, with the byte offset", () => {
    const whole = readFileSync(join(dir, "resnet18-legacy.pth"));
    const file = join(dir, "legacy-cut.pth");
    writeFileSync(file, whole.subarray(0, whole.length - 1000));
    expect(thrown(() => readStateDict(file)).message).toMatch(
      new RegExp(`legacy-cut\\.pth: byte \\d+: storage \\d+ should hold \\d+ elements \\(\\d+ bytes\\) but the file ends at byte ${whole.length - 1000}: the file is truncated or damaged$`),
    );
  });
});

describe("state dict formats without PyTorch", () => {
  const dir = mkdtempSync(join(tmpdir(), "sdfn-sd-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads safetensors (timm, Hugging Face) with the same result type", () => {
    const file = join(dir, "w.safetensors");
    writeSafetensors(file, { "fc.weight": { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) } });
    const sd = readStateDict(file);
    expect(sd.format).toBe("safetensors");
    expect(Array.from(sd.tensors.get("fc.weight")!.data)).toEqual([1, 2, 3, 4]);
  });

  it("refuses a file of no known format, an empty one, and a zip that torch.save did not write", () => {
    const text = join(dir, "glove.txt");
    writeFileSync(text, "the 0.1 0.2\n");
    expect(thrown(() => readStateDict(text)).message).toBe(
      `${text}: neither a PyTorch file (torch.save: a zip, or the legacy pickle format) nor safetensors (first bytes 74686520302e3120)`,
    );
    const empty = join(dir, "empty.pth");
    writeFileSync(empty, "");
    expect(thrown(() => readStateDict(empty)).message).toMatch(/first bytes none: the file is empty\)$/);
    // a stored zip holding one file "a.txt" (built by hand: local header, central directory, end record)
    const zip = join(dir, "other.zip");
    writeFileSync(zip, storedZip("a.txt", Buffer.from("hi")));
    expect(thrown(() => readStateDict(zip)).message).toBe(`${zip}: a zip without <archive>/data.pkl: not a file written by torch.save (entries: a.txt)`);
  });
});

/** A minimal zip (one stored entry), as any zip tool writes it. */
function storedZip(name: string, data: Buffer): Buffer {
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(name.length, 28);
  const entries = Buffer.concat([local, Buffer.from(name), data]);
  const directory = Buffer.concat([central, Buffer.from(name)]);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(entries.length, 16);
  return Buffer.concat([entries, directory, end]);
}

function crc32(data: Buffer): number {
  let c = ~0;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
