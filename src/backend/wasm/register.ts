// Gradient kernels tfjs-backend-wasm 4.22 lacks, registered when the wasm backend is activated
// so that it can train the built-in networks (src/backend/index.ts).
import * as tf from "@tensorflow/tfjs";
import { wasmConv2DBackpropFilter } from "./conv-filter.js";
import { wasmUnsortedSegmentSum } from "./segment-sum.js";

const KERNELS: readonly tf.KernelConfig[] = [wasmConv2DBackpropFilter, wasmUnsortedSegmentSum];

/** Registers each missing kernel once (a later tfjs-backend-wasm that has one keeps its own). */
export function registerWasmGradients(): void {
  for (const kernel of KERNELS) if (!tf.getKernel(kernel.kernelName, "wasm")) tf.registerKernel(kernel);
}
