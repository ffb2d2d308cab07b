// sdfn's own kernels on the torch backend (native/src/ops/sdfn.cc): training-mode batch norm
// (src/backend/batch-norm.ts), one Adam step (src/backend/adam-step.ts) and a table's rows replaced
// (src/backend/rows-update.ts). Other backends get them as written-out formulas (src/backend/composite.ts).
import type { KernelConfig } from "@tensorflow/tfjs";

import type { TorchBackend } from "../backend.js";

type Kernel = Omit<KernelConfig, "backendName">;

export const sdfnKernels: Kernel[] = [
  {
    kernelName: "SdfnBatchNormTrain",
    kernelFunc: ({ inputs, backend, attrs }) =>
      (backend as TorchBackend).exec("SdfnBatchNormTrain", [inputs.x, inputs.gamma, inputs.beta], [], [attrs!.eps as number]),
  },
  {
    kernelName: "SdfnBatchNormTrainGrad",
    kernelFunc: ({ inputs, backend, attrs }) =>
      (backend as TorchBackend).exec("SdfnBatchNormTrainGrad", [inputs.dy, inputs.x, inputs.gamma, inputs.mean, inputs.invstd], [], [attrs!.eps as number]),
  },
  {
    kernelName: "SdfnAdamStep",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const a = attrs as Record<string, number | boolean>;
      const floats = [a.lr, a.beta1, a.beta2, a.eps, a.bias1, a.bias2, a.weightDecay] as number[];
      return (backend as TorchBackend).exec("SdfnAdamStep", [inputs.variable, inputs.m, inputs.v, inputs.grad], [a.decoupled ? 1 : 0], floats);
    },
  },
  {
    kernelName: "SdfnRowsUpdate",
    kernelFunc: ({ inputs, backend }) => (backend as TorchBackend).exec1("SdfnRowsUpdate", [inputs.table, inputs.indices, inputs.rows]),
  },
];
