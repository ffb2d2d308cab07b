// The restricted unpickler for PyTorch files. `torch.save` pickles a state dict as an
// OrderedDict of `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)` calls
// whose storages are persistent ids; pickleparser reads the opcodes and this file decides what
// each global means. Nothing is ever called by name: the few globals a state dict is made of
// are mapped to plain data here, and any other (a class, `os.system`, …) stops the read.
import { BufferReader, Parser } from "pickleparser";
import { decodeTensorData, DTYPE_BYTES, type SafeDtype, type SafeTensor } from "./safetensors.js";
import { StateDictError } from "./state-dict-error.js";

/** A storage a tensor views: its key (a zip entry `data/<key>`, or a legacy file's record), dtype and length. */
export interface StorageRef {
  key: string;
  dtype: SafeDtype;
  numel: number;
}

/** A tensor as the pickle describes it: `size` elements of `storage` from `offset`, `stride` apart. */
export class TensorView {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** `torch.<Name>Storage` → the element type (torch/storage.py's legacy typed storages). */
const STORAGE_DTYPES: Record<string, SafeDtype> = {
  FloatStorage: "F32",
  DoubleStorage: "F64",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  LongStorage: "I64",
  IntStorage: "I32",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
};

/** A storage class named by a persistent id (a marker: the class is never used). */
class StorageType {
  constructor(readonly dtype: SafeDtype) {}
}

/** Thrown by the name resolver; reported with the byte offset where the pickle named it. */
class RefusedGlobal extends Error {}

// Regular functions: pickle's REDUCE calls them, NEWOBJ constructs them (a returned object wins).
function orderedDict(): Map<unknown, unknown> {
  return new Map();
}
function rebuildTensor(storage: unknown, offset: unknown, size: unknown, stride: unknown): TensorView {
  if (!(storage instanceof Object && "key" in storage) || !isIntList(size) || !isIntList(stride) || typeof offset !== "number") {
    throw new RefusedGlobal("a _rebuild_tensor_v2 call without (storage, offset, size, stride)");
  }
  return new TensorView(storage as StorageRef, offset, size, stride);
}
function rebuildParameter(data: unknown): unknown {
  return data; // nn.Parameter(data): the tensor is all a state dict needs
}
const isIntList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isInteger(x));

/** The only globals a state dict may name. */
function resolveGlobal(module: string, name: string): (...args: never[]) => unknown {
  if (module === "collections" && name === "OrderedDict") return orderedDict;
  if (module === "torch._utils" && name === "_rebuild_tensor_v2") return rebuildTensor as never;
  if (module === "torch._utils" && name === "_rebuild_parameter") return rebuildParameter as never;
  const dtype = module === "torch" ? STORAGE_DTYPES[name] : undefined;
  // a storage class is only referenced by persistent ids, never called: a marker stands for it
  if (dtype) return new StorageType(dtype) as never;
  throw new RefusedGlobal(
    `the pickle names the global ${module}.${name}, which is not part of a state dict; sdfn reads tensors, ` +
      `OrderedDicts and storages and never runs code from a weights file: save the model's state_dict() instead`,
  );
}

/** A persistent id ('storage', storage_type, key, location, numel[, view_metadata]) → the storage it names. */
function resolveStorage(pid: unknown): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length < 5) {
    throw new RefusedGlobal(`a persistent id that is not a storage (${JSON.stringify(pid)?.slice(0, 80)})`);
  }
  const [, type, key, , numel, view] = pid as [string, unknown, unknown, unknown, unknown, unknown];
  const dtype = type instanceof StorageType ? type.dtype : undefined;
  if (!dtype || typeof numel !== "number") throw new RefusedGlobal(`a storage of an unknown type (${String(key)})`);
  if (view !== undefined && view !== null) {
    throw new RefusedGlobal("a storage view (torch.save before PyTorch 1.0); load and save the file again with a current PyTorch");
  }
  return { key: String(key), dtype, numel };
}

/**
 * Reads one pickle from `reader`'s position (it is left after the STOP opcode).
 * `where` names the file (and entry) for errors, which also give the byte offset.
 */
export function unpickle(reader: BufferReader, where: string): unknown {
  const parser = new Parser({
    nameResolver: { resolve: (module, name) => resolveGlobal(module, name) as never },
    persistentResolver: { resolve: (pid) => resolveStorage(pid) },
    unpicklingTypeOfDictionary: "Map",
  });
  const start = reader.position;
  try {
    return parser.read(reader);
  } catch (err) {
    const why = err instanceof RefusedGlobal ? err.message : `not a readable pickle (${(err as Error).message})`;
    throw new StateDictError(`${where}: byte ${reader.position} (pickle from byte ${start}): ${why}`);
  }
}

/** The tensor `view` describes, from its storage's raw little-endian bytes (F16/BF16/F64 become float32, I64 int32). */
export function materialize(view: TensorView, storage: Uint8Array, name: string, where: string): SafeTensor {
  const { dtype, numel, key } = view.storage;
  const need = numel * DTYPE_BYTES[dtype];
  if (storage.byteLength < need) {
    throw new StateDictError(`${where}: "${name}": its storage ${key} holds ${storage.byteLength} bytes, ${need} expected (${numel} × ${dtype}); the file is damaged or cut short`);
  }
  const count = view.size.reduce((a, b) => a * b, 1);
  const last = view.offset + view.size.reduce((s, n, i) => s + (n - 1) * view.stride[i]!, 0);
  if (view.size.length !== view.stride.length || view.offset < 0 || (count > 0 && last >= numel)) {
    throw new StateDictError(`${where}: "${name}": size [${view.size}] stride [${view.stride}] from ${view.offset} reaches past its storage ${key} of ${numel} elements`);
  }
  // copied: a zip entry or a legacy record need not be aligned to the element size
  const values = decodeTensorData(dtype, storage.slice(0, need), numel);
  return { dtype, shape: view.size, data: contiguous(values, view, count) };
}

/** The view's elements in row-major order (a copy unless the view already is the storage's prefix). */
function contiguous<T extends Float32Array | Int32Array | Uint8Array>(values: T, view: TensorView, count: number): T {
  const rowMajor = view.size.every((_, i) => view.size.slice(i + 1).reduce((a, b) => a * b, 1) === view.stride[i] || view.size[i] === 1);
  if (rowMajor) return values.subarray(view.offset, view.offset + count) as T;
  const out = new (values.constructor as new (n: number) => T)(count);
  const index = new Array<number>(view.size.length).fill(0);
  for (let i = 0; i < count; i++) {
    out[i] = values[view.offset + index.reduce((s, k, d) => s + k * view.stride[d]!, 0)]!;
    for (let d = view.size.length - 1; d >= 0 && ++index[d]! === view.size[d]; d--) index[d] = 0;
  }
  return out;
}
