// PyTorch's own files as `torch.save` writes them, read with no Python:
// - zip (PyTorch ≥ 1.6, torchvision's and timm's downloads): `<archive>/data.pkl`, the pickle,
//   and one raw little-endian entry `<archive>/data/<key>` per storage (unzipped by fflate);
// - legacy (`_use_new_zipfile_serialization=False`, older downloads): a magic-number pickle,
//   a protocol pickle, a system-info pickle, the object pickle, a pickle of the storage keys,
//   then per key an int64 element count and the storage's bytes.
// The pickles are read by torch-pickle.ts, which allows only what a state dict is made of.
import { unzipSync } from "fflate";
import { BufferReader } from "pickleparser";
import { DTYPE_BYTES } from "./safetensors.js";
import { StateDictError } from "./state-dict-error.js";
import { materialize, TensorView, unpickle, type StorageRef } from "./torch-pickle.js";

/** A zip's first local-file header, and its end-of-central-directory record. */
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const ZIP_END = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
/** The legacy format's first pickle: protocol 2, LONG1 0x1950a86a20f9469cfc6c (torch/serialization.py MAGIC_NUMBER), STOP. */
const LEGACY_MAGIC = Buffer.from("80028a0a6cfc9c46f9206aa850192e", "hex");

export type TorchFormat = "torch zip" | "torch legacy";

export function torchFormat(buf: Uint8Array): TorchFormat | undefined {
  if (ZIP_MAGIC.every((b, i) => buf[i] === b)) return "torch zip";
  if (Buffer.from(buf.subarray(0, LEGACY_MAGIC.length)).equals(LEGACY_MAGIC)) return "torch legacy";
  return undefined;
}

/** What the file's object pickle holds, tensors materialised (a state dict is a Map of them). */
export function readTorchFile(buf: Buffer, file: string): unknown {
  return torchFormat(buf) === "torch zip" ? readZip(buf, file) : readLegacy(buf, file);
}

function readZip(buf: Buffer, file: string): unknown {
  // A file cut short loses the zip's end record first (the central directory is written last).
  if (buf.lastIndexOf(ZIP_END) < 0) {
    throw new StateDictError(
      `${file}: the zip archive ends at byte ${buf.length} without its end record (the central directory is missing): ` +
        `the file is truncated, e.g. an interrupted download; download or copy it again`,
    );
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(buf);
  } catch (err) {
    throw new StateDictError(`${file}: not a readable zip archive (${(err as Error).message}); download or copy it again`);
  }
  const pickleName = Object.keys(entries).find((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (!pickleName) {
    throw new StateDictError(`${file}: a zip without <archive>/data.pkl: not a file written by torch.save (entries: ${Object.keys(entries).slice(0, 5).join(", ")})`);
  }
  const archive = pickleName.slice(0, -"data.pkl".length);
  const order = entries[`${archive}byteorder`];
  if (order && Buffer.from(order).toString() !== "little") {
    throw new StateDictError(`${file}: written on a big-endian machine (${archive}byteorder); load and save it again on a little-endian one`);
  }
  const where = `${file} (${pickleName})`;
  const root = unpickle(new BufferReader(entries[pickleName]!), where);
  return mapTensors(root, (view, name) => {
    const entry = entries[`${archive}data/${view.storage.key}`];
    if (!entry) throw new StateDictError(`${where}: "${name}": its storage ${archive}data/${view.storage.key} is not in the archive`);
    return materialize(view, entry, name, where);
  });
}

function readLegacy(buf: Buffer, file: string): unknown {
  const reader = new BufferReader(buf);
  reader.skip(LEGACY_MAGIC.length);
  const protocol = unpickle(reader, file);
  if (protocol !== 1001) throw new StateDictError(`${file}: legacy torch.save protocol ${String(protocol)}, expected 1001; load and save it again with a current PyTorch`);
  const info = unpickle(reader, file) as Map<string, unknown>;
  if (info instanceof Map && info.get("little_endian") === false) {
    throw new StateDictError(`${file}: written on a big-endian machine; load and save it again on a little-endian one`);
  }
  const root = unpickle(reader, file);
  const keys = unpickle(reader, file);
  if (!Array.isArray(keys)) throw new StateDictError(`${file}: byte ${reader.position}: no list of storage keys after the object`);
  // The storages follow in the listed order, each as an int64 element count and its bytes.
  const storages = new Map<string, StorageRef>(); // the storages the tensors name, by key
  mapTensors(root, (view) => storages.set(view.storage.key, view.storage));
  const bytes = new Map<string, Uint8Array>();
  for (const key of keys as unknown[]) {
    const storage = storages.get(String(key));
    const at = reader.position;
    if (!storage) throw new StateDictError(`${file}: byte ${at}: storage ${String(key)} is listed but no tensor uses it`);
    const numel = at + 8 <= buf.length ? Number(buf.readBigInt64LE(at)) : -1;
    const size = numel * DTYPE_BYTES[storage.dtype];
    if (numel !== storage.numel || at + 8 + size > buf.length) {
      throw new StateDictError(
        `${file}: byte ${at}: storage ${String(key)} should hold ${storage.numel} elements (${storage.numel * DTYPE_BYTES[storage.dtype]} bytes) ` +
          `but the file ${numel < 0 || at + 8 + size > buf.length ? `ends at byte ${buf.length}` : `says ${numel}`}: the file is truncated or damaged`,
      );
    }
    bytes.set(String(key), buf.subarray(at + 8, at + 8 + size));
    reader.skip(8 + size);
  }
  return mapTensors(root, (view, name) => {
    const data = bytes.get(view.storage.key);
    if (!data) throw new StateDictError(`${file}: "${name}": its storage ${view.storage.key} is not in the file`);
    return materialize(view, data, name, file);
  });
}

/** `value` with every TensorView replaced by `fn(view, its dotted key)`, through Maps and lists. */
function mapTensors(value: unknown, fn: (view: TensorView, name: string) => unknown, name = ""): unknown {
  if (value instanceof TensorView) return fn(value, name);
  const at = (k: unknown) => (name ? `${name}.${String(k)}` : String(k));
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, mapTensors(v, fn, at(k))]));
  if (Array.isArray(value)) return value.map((v, i) => mapTensors(v, fn, at(i)));
  return value;
}
