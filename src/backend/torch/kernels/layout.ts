// Shape and indexing kernels: reshape/transpose/slice are ATen views (no copy); gathers and
// scatters use index_select/index_add on flattened indices.
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs";

import type { TorchBackend } from "../backend.js";
import { dtypeCodes } from "../native.js";
import { cpuKernel } from "../fallback.js";

type Kernel = Omit<KernelConfig, "backendName">;
const { slice_util } = tf;

function reshape(b: TorchBackend, x: TensorInfo, shape: number[]): TensorInfo {
  const resolved = tf.util.inferFromImplicitShape(shape, tf.util.sizeFromShape(x.shape));
  return b.exec1("Reshape", [x], [resolved.length, ...resolved]);
}

const expandDims: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.input as TensorInfo;
  const dim = attrs!.dim as number;
  const shape = x.shape.slice();
  shape.splice(dim < 0 ? x.shape.length + dim + 1 : dim, 0, 1);
  return reshape(backend as TorchBackend, x, shape);
};

const slice: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as TensorInfo;
  const [begin, size] = slice_util.parseSliceParams(x, attrs!.begin as number[], attrs!.size as number[]);
  return (backend as TorchBackend).exec1("Slice", [x], [x.shape.length, ...begin, ...size]);
};

const stridedSlice: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as TensorInfo;
  const a = attrs as Record<string, number & number[]>;
  const info = slice_util.sliceInfo(x.shape, a.begin, a.end, a.strides, a.beginMask, a.endMask, a.ellipsisMask, a.newAxisMask, a.shrinkAxisMask);
  // Element j along dim d is x[begin[d] + j * strides[d]] while short of end[d] (tfjs stridedSliceImpl).
  const ints: number[] = [x.shape.length];
  for (let d = 0; d < x.shape.length; d++) {
    const [b, e, s] = [info.begin[d], info.end[d], info.strides[d]];
    ints.push(b, s, Math.max(0, Math.ceil((e - b) / s)));
  }
  ints.push(info.finalShape.length, ...info.finalShape);
  return (backend as TorchBackend).exec1("StridedSlice", [x], ints);
};

const list = (inputs: object) => Object.values(inputs) as TensorInfo[];

const padding = (paddings: [number, number][]) => paddings.flatMap(([before, after]) => [before, after]);

const gather: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as TensorInfo;
  const [axis] = tf.util.parseAxisParam(attrs!.axis as number, x.shape);
  return (backend as TorchBackend).exec1("GatherV2", [x, inputs.indices], [axis, attrs!.batchDims as number]);
};

const range: KernelFunc = ({ backend, attrs }) => {
  const { start, stop, step, dtype } = attrs as { start: number; stop: number; step: number; dtype: "float32" | "int32" };
  const empty = start === stop || (start < stop && step < 0) || (stop < start && step > 1);
  const n = empty ? 0 : Math.abs(Math.ceil((stop - start) / step));
  return (backend as TorchBackend).exec1("Range", [], [dtypeCodes[dtype], n], [start, step]);
};

const fill: KernelFunc = (args) => {
  const { shape, value, dtype } = args.attrs as { shape: number[]; value: number | string; dtype: tf.DataType };
  if (typeof value === "string" || dtype === "string" || dtype === "complex64") return cpuKernel("Fill")(args);
  const code = dtypeCodes[(dtype ?? "float32") as keyof typeof dtypeCodes];
  return (args.backend as TorchBackend).exec1("Fill", [], [code, shape.length, ...shape], [value]);
};

export const layoutKernels: Kernel[] = [
  { kernelName: "Reshape", kernelFunc: ({ inputs, backend, attrs }) => reshape(backend as TorchBackend, inputs.x as TensorInfo, attrs!.shape as number[]) },
  { kernelName: "ExpandDims", kernelFunc: expandDims },
  {
    kernelName: "Transpose",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const perm = attrs!.perm as number[];
      return (backend as TorchBackend).exec1("Transpose", [inputs.x], [perm.length, ...perm]);
    },
  },
  { kernelName: "Slice", kernelFunc: slice },
  { kernelName: "StridedSlice", kernelFunc: stridedSlice },
  {
    kernelName: "Concat",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const xs = list(inputs);
      const [axis] = tf.util.parseAxisParam(attrs!.axis as number, xs[0].shape);
      return (backend as TorchBackend).exec1("Concat", xs, [axis]);
    },
  },
  {
    kernelName: "Pack",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const xs = list(inputs);
      const axis = attrs!.axis as number;
      return (backend as TorchBackend).exec1("Pack", xs, [axis < 0 ? axis + xs[0].shape.length + 1 : axis]);
    },
  },
  {
    kernelName: "Unpack",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs.value as TensorInfo;
      const axis = attrs!.axis as number;
      return (backend as TorchBackend).exec("Unpack", [x], [axis < 0 ? axis + x.shape.length : axis]);
    },
  },
  {
    kernelName: "SplitV",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs.x as TensorInfo;
      const [axis] = tf.util.parseAxisParam(attrs!.axis as number, x.shape);
      const sizes = tf.backend_util.prepareSplitSize(x, attrs!.numOrSizeSplits as number | number[], axis);
      return (backend as TorchBackend).exec("SplitV", [x], [axis, sizes.length, ...sizes]);
    },
  },
  {
    kernelName: "Tile",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const reps = attrs!.reps as number[];
      return (backend as TorchBackend).exec1("Tile", [inputs.x], [reps.length, ...reps]);
    },
  },
  {
    kernelName: "Reverse",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs.x as TensorInfo;
      const dims = tf.util.parseAxisParam(attrs!.dims as number | number[], x.shape);
      return (backend as TorchBackend).exec1("Reverse", [x], [dims.length, ...dims]);
    },
  },
  {
    kernelName: "PadV2",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs.x as TensorInfo;
      const paddings = attrs!.paddings as [number, number][];
      return (backend as TorchBackend).exec1("PadV2", [x], [x.shape.length, ...padding(paddings)], [attrs!.constantValue as number]);
    },
  },
  {
    kernelName: "MirrorPad",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs.x as TensorInfo;
      const paddings = attrs!.paddings as [number, number][];
      const mode = attrs!.mode === "symmetric" ? 1 : 0;
      return (backend as TorchBackend).exec1("MirrorPad", [x], [x.shape.length, ...padding(paddings), mode]);
    },
  },
  { kernelName: "GatherV2", kernelFunc: gather },
  { kernelName: "GatherNd", kernelFunc: ({ inputs, backend }) => (backend as TorchBackend).exec1("GatherNd", [inputs.params, inputs.indices]) },
  {
    kernelName: "ScatterNd",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const shape = attrs!.shape as number[];
      return (backend as TorchBackend).exec1("ScatterNd", [inputs.indices, inputs.updates], [shape.length, ...shape]);
    },
  },
  {
    kernelName: "UnsortedSegmentSum",
    kernelFunc: ({ inputs, backend, attrs }) =>
      (backend as TorchBackend).exec1("UnsortedSegmentSum", [inputs.x, inputs.segmentIds], [attrs!.numSegments as number]),
  },
  {
    kernelName: "OneHot",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { depth, onValue, offValue, dtype } = attrs as { depth: number; onValue: number; offValue: number; dtype: string };
      return (backend as TorchBackend).exec1("OneHot", [inputs.indices], [depth, dtypeCodes[dtype as keyof typeof dtypeCodes]], [onValue, offValue]);
    },
  },
  { kernelName: "Fill", kernelFunc: fill },
  { kernelName: "Range", kernelFunc: range },
];
