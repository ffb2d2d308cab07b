// What sdfn's JS kernels for tfjs-backend-wasm use of it: typed views of a tensor's heap
// memory and a fresh output (take input views before makeOutput: it may grow the heap).
import type * as tf from "@tensorflow/tfjs";

export interface WasmHeap {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** A new output tensor holding `values` (computed before: makeOutput may move the heap). */
export function heapOutput(backend: WasmHeap, shape: number[], dtype: tf.DataType, values: ArrayLike<number>): tf.TensorInfo {
  const out = backend.makeOutput(shape, dtype);
  backend.typedArrayFromHeap(out).set(values);
  return out;
}

type JsKernel = (args: { inputs: tf.NamedTensorInfoMap; backend: WasmHeap; attrs?: tf.NamedAttrMap }) => tf.TensorInfo;

/** A JS kernel as tfjs registers it for the wasm backend. */
export const wasmKernel = (kernelName: string, kernel: JsKernel): tf.KernelConfig => ({
  kernelName,
  backendName: "wasm",
  kernelFunc: kernel as unknown as tf.KernelFunc,
});
