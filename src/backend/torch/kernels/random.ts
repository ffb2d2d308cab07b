// The step's random kernels on the torch backend (native/src/ops/random.cc): the dropout mask
// (1/(1 − rate) kept, 0 dropped) drawn from the native step generator, which every training step
// reseeds (src/backend/torch/replay/step-seed.ts), so a replay draws the eager step's masks
// (src/nn/dropout.ts; other backends draw tf.dropout's own).
import type { KernelConfig } from "@tensorflow/tfjs";

import type { TorchBackend } from "../backend.js";

type Kernel = Omit<KernelConfig, "backendName">;

export const randomKernels: Kernel[] = [
  {
    kernelName: "SdfnDropoutMask",
    kernelFunc: ({ backend, attrs }) => {
      const shape = attrs!.shape as number[];
      return (backend as TorchBackend).exec1("SdfnDropoutMask", [], [shape.length, ...shape], [attrs!.rate as number]);
    },
  },
];
