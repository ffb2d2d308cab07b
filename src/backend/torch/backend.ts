// The tfjs backend `torch`: every tfjs data id maps to an ATen tensor held by the native addon
// (an integer handle). Kernels (./kernels) call ATen through TorchNative.run; nothing is read
// back to JS unless tfjs asks for the values (read/readSync).
import * as tf from "@tensorflow/tfjs";
import type { TensorInfo } from "@tensorflow/tfjs";

import { setStepScalarSink } from "../step-scalars.js";
import { type NativeDtype, TorchNative } from "./native.js";
import { Recorder } from "./replay/recorder.js";

type DataId = object;
type BackendValues = Float32Array | Int32Array | Uint8Array | Uint8Array[];

interface TensorData {
  handle: number; // -1 for string tensors, which live in JS only
  dtype: tf.DataType;
  size: number;
  refCount: number;
  strings?: Uint8Array[];
}

const arrayTypes = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as const;

function isNative(dtype: tf.DataType): dtype is NativeDtype {
  return dtype === "float32" || dtype === "int32" || dtype === "bool";
}

/** Values as the typed array the addon copies for a dtype (tfjs may hand over plain arrays). */
function typed(values: BackendValues | number[], dtype: NativeDtype): Float32Array | Int32Array | Uint8Array {
  const Type = arrayTypes[dtype];
  return values instanceof Type ? values : Type.from(values as ArrayLike<number>);
}

export class TorchBackend extends tf.KernelBackend {
  private readonly data: tf.DataStorage<TensorData>;
  /** Set while a run is recorded for replay (./replay/). */
  recorder: Recorder | null = null;

  constructor(readonly native: TorchNative) {
    super();
    this.data = new tf.DataStorage(this, tf.engine());
  }

  get device(): string {
    return this.native.device;
  }

  // ---- storage
  override write(values: BackendValues, shape: number[], dtype: tf.DataType): DataId {
    const dataId = {};
    this.data.set(dataId, this.store(values, shape, dtype, 1));
    return dataId;
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    this.data.set(dataId, this.store(values, shape, dtype, refCount));
  }

  private store(values: BackendValues, shape: number[], dtype: tf.DataType, refCount: number): TensorData {
    const size = tf.util.sizeFromShape(shape);
    if (dtype === "string") return { handle: -1, dtype, size, refCount, strings: values as Uint8Array[] };
    if (!isNative(dtype)) throw new Error(`torch backend: dtype ${dtype} is not supported (float32, int32, bool and string are)`);
    const vals = typed(values ?? new arrayTypes[dtype](size), dtype);
    const handle = this.native.upload(vals, shape, dtype);
    this.recorder?.upload(handle, vals, shape, dtype);
    return { handle, dtype, size, refCount };
  }

  override refCount(dataId: DataId): number {
    return this.data.has(dataId) ? this.data.get(dataId).refCount : 0;
  }

  override incRef(dataId: DataId): void {
    this.data.get(dataId).refCount++;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const d = this.data.get(dataId);
    d.refCount--;
    if (!force && d.refCount > 0) return false;
    if (d.handle >= 0) {
      this.recorder?.free(d.handle);
      this.native.addon.free(d.handle);
    }
    this.data.delete(dataId);
    return true;
  }

  override numDataIds(): number {
    return this.data.numDataIds();
  }

  override readSync(dataId: DataId): BackendValues {
    const d = this.data.get(dataId);
    if (d.strings) return d.strings;
    this.recorder?.read(dataId, d.handle, d.size);
    const out = new arrayTypes[d.dtype as NativeDtype](d.size);
    this.native.addon.download(d.handle, out);
    return out;
  }

  override async read(dataId: DataId): Promise<BackendValues> {
    return this.readSync(dataId);
  }

  override memory(): { unreliable: boolean; reasons?: string[] } & Record<string, unknown> {
    const [handles, bytes] = this.native.addon.stats();
    return { unreliable: false, device: this.device, nativeHandles: handles, nativeBytes: bytes };
  }

  override async time(f: () => void): Promise<tf.BackendTimingInfo> {
    const start = performance.now();
    f();
    this.native.addon.sync();
    return { kernelMs: performance.now() - start };
  }

  override timerAvailable(): boolean {
    return true;
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override dispose(): void {
    // tensors are freed through disposeData; the addon's table lives as long as the process
  }

  // ---- kernel helpers
  /** The native handle of a kernel input (-1 when the input is absent). */
  handle(t: TensorInfo | null | undefined): number {
    if (t == null) return -1;
    const d = this.data.get(t.dataId);
    if (d.handle < 0) throw new Error(`torch backend: ${d.dtype} tensors cannot be kernel inputs`);
    return d.handle;
  }

  /** Runs native kernel `kernel` and wraps its outputs as tfjs TensorInfos owned by this backend. */
  exec(kernel: string, inputs: readonly (TensorInfo | null | undefined)[], ints: ArrayLike<number> = [], floats: ArrayLike<number> = []): TensorInfo[] {
    const handles = inputs.map((t) => this.handle(t));
    const code = this.native.code(kernel);
    const n = this.native.run(code, handles, ints, floats);
    const outs: TensorInfo[] = new Array(n);
    const outHandles: number[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const out = this.native.output(k);
      outHandles[k] = out.handle;
      outs[k] = this.adopt(out);
    }
    if (this.recorder) {
      const slots = inputs.map((t, k) => (t == null ? -1 : this.recorder!.input(t, handles[k]!)));
      this.recorder.kernel(code, kernel, slots, ints, floats, outs, outHandles);
    }
    return outs;
  }

  /** exec for single-output kernels. */
  exec1(kernel: string, inputs: readonly (TensorInfo | null | undefined)[], ints?: ArrayLike<number>, floats?: ArrayLike<number>): TensorInfo {
    return this.exec(kernel, inputs, ints, floats)[0];
  }

  /** The first n output records of the last native call (a replay's outputs) as TensorInfos owned by this backend. */
  adoptOutputs(n: number): TensorInfo[] {
    return Array.from({ length: n }, (_, k) => this.adopt(this.native.output(k)));
  }

  private adopt(out: { handle: number; dtype: NativeDtype; shape: number[] }): TensorInfo {
    const dataId = {};
    this.data.set(dataId, { handle: out.handle, dtype: out.dtype, size: tf.util.sizeFromShape(out.shape), refCount: 1 });
    return { dataId, shape: out.shape, dtype: out.dtype };
  }

  /** Records everything the backend does until `stopRecording` (one training step). */
  startRecording(): Recorder {
    if (this.recorder) throw new Error("torch backend: a step is already being recorded");
    const recorder = new Recorder();
    this.recorder = recorder;
    setStepScalarSink((values) => recorder.declareScalars(values));
    return recorder;
  }

  stopRecording(): void {
    this.recorder = null;
    setStepScalarSink(null);
  }

  /** Whether the tensor's data is held by more than one tensor (a variable sharing another's value). */
  shared(t: TensorInfo): boolean {
    return this.data.get(t.dataId).refCount > 1;
  }

  /** A kernel output that shares x's data (Identity): one more reference to the same tensor. */
  share(x: TensorInfo, dtype: tf.DataType = x.dtype): TensorInfo {
    this.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype };
  }
}
