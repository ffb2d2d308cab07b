// Reductions, scans, softmax and top-k.
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, TensorInfo } from "@tensorflow/tfjs";

import type { TorchBackend } from "../backend.js";

type Kernel = Omit<KernelConfig, "backendName">;

// attrs { axis, keepDims } → ints [keepDims, n, ...axes]
const reduction = (name: string): Kernel => ({
  kernelName: name,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    // Max names its axes `reductionIndices`; the others `axis`.
    const axes = tf.util.parseAxisParam((attrs!.axis ?? attrs!.reductionIndices) as number | number[], x.shape);
    return (backend as TorchBackend).exec1(name, [x], [attrs!.keepDims ? 1 : 0, axes.length, ...axes]);
  },
});

const argReduction = (name: string): Kernel => ({
  kernelName: name,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    const [axis] = tf.util.parseAxisParam(attrs!.axis as number | number[], x.shape);
    return (backend as TorchBackend).exec1(name, [x], [axis]);
  },
});

const scanKernel = (name: string): Kernel => ({
  kernelName: name,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    const [axis] = tf.util.parseAxisParam(attrs!.axis as number, x.shape);
    return (backend as TorchBackend).exec1(name, [x], [axis, attrs!.exclusive ? 1 : 0, attrs!.reverse ? 1 : 0]);
  },
});

const softmax: Kernel = {
  kernelName: "Softmax",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.logits as TensorInfo;
    const [axis] = tf.util.parseAxisParam(attrs!.dim as number, x.shape);
    return (backend as TorchBackend).exec1("Softmax", [x], [axis]);
  },
};

export const reduceKernels: Kernel[] = [
  ...["Sum", "Mean", "Max", "Min", "Prod", "All", "Any"].map(reduction),
  ...["ArgMax", "ArgMin"].map(argReduction),
  ...["Cumsum", "Cumprod"].map(scanKernel),
  softmax,
  {
    kernelName: "TopK",
    kernelFunc: ({ inputs, backend, attrs }) => (backend as TorchBackend).exec("TopK", [inputs.x], [attrs!.k as number, attrs!.sorted ? 1 : 0]),
  },
];
