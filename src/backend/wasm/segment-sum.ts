// UnsortedSegmentSum for tfjs-backend-wasm, which lacks it (4.22): the gradient of Gather
// (word embeddings) sums the rows of x into out[segmentIds[i]]. A direct loop over the heap.
import * as tf from "@tensorflow/tfjs";
import { heapOutput, wasmKernel, type WasmHeap } from "./heap.js";

function unsortedSegmentSum(args: { inputs: tf.NamedTensorInfoMap; backend: WasmHeap; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const backend = args.backend;
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const width = x.shape.slice(segmentIds.shape.length).reduce((a, b) => a * b, 1);
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const sums = new Float32Array(numSegments * width);
  for (let r = 0; r < rows; r++) {
    const id = ids[r]!;
    if (id < 0 || id >= numSegments) continue; // out-of-range ids are dropped, as on the cpu backend
    const src = r * width;
    const dst = id * width;
    for (let j = 0; j < width; j++) sums[dst + j]! += xs[src + j]!;
  }
  return heapOutput(backend, [numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype, sums);
}

export const wasmUnsortedSegmentSum = wasmKernel(tf.UnsortedSegmentSum, unsortedSegmentSum);
