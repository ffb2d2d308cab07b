// Elementwise kernels: one ATen call each (broadcasting as numpy, like tfjs).
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs";

import type { TorchBackend } from "../backend.js";
import { dtypeCodes } from "../native.js";
import { cpuKernel } from "../fallback.js";

type Kernel = Omit<KernelConfig, "backendName">;

const unaryNames = [
  "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Cos", "Cosh", "Elu", "Erf", "Exp", "Expm1",
  "Floor", "IsFinite", "IsInf", "IsNan", "Log", "Log1p", "LogicalNot", "Neg", "Reciprocal", "Relu", "Relu6", "Round",
  "Rsqrt", "Selu", "Sigmoid", "Sign", "Sin", "Sinh", "Softplus", "Sqrt", "Square", "Tan", "Tanh", "ZerosLike", "OnesLike",
];

const binaryNames = [
  "Add", "Sub", "Multiply", "RealDiv", "FloorDiv", "Maximum", "Minimum", "Pow", "SquaredDifference", "Mod", "Atan2",
  "Equal", "NotEqual", "Greater", "GreaterEqual", "Less", "LessEqual", "LogicalAnd", "LogicalOr",
];

const unary = (name: string): Kernel => ({
  kernelName: name,
  kernelFunc: ({ inputs, backend }) => (backend as TorchBackend).exec1(name, [inputs.x]),
});

const binary = (name: string): Kernel => ({
  kernelName: name,
  kernelFunc: ({ inputs, backend }) => (backend as TorchBackend).exec1(name, [inputs.a, inputs.b]),
});

const cast: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as TorchBackend;
  const x = inputs.x as TensorInfo;
  const dtype = attrs!.dtype as string;
  if (dtype === x.dtype) return b.share(x);
  if (dtype === "complex64" || x.dtype === "complex64" || x.dtype === "string") return cpuKernel("Cast")({ inputs, backend, attrs });
  return b.exec1("Cast", [x], [dtypeCodes[dtype as keyof typeof dtypeCodes]]);
};

export const elementwiseKernels: Kernel[] = [
  ...unaryNames.map(unary),
  ...binaryNames.map(binary),
  { kernelName: "Identity", kernelFunc: ({ inputs, backend }) => (backend as TorchBackend).share(inputs.x as TensorInfo) },
  { kernelName: "Cast", kernelFunc: cast },
  {
    kernelName: "Step",
    kernelFunc: ({ inputs, backend, attrs }) => (backend as TorchBackend).exec1("Step", [inputs.x], [], [attrs!.alpha as number]),
  },
  {
    kernelName: "LeakyRelu",
    kernelFunc: ({ inputs, backend, attrs }) => (backend as TorchBackend).exec1("LeakyRelu", [inputs.x], [], [attrs!.alpha as number]),
  },
  {
    kernelName: "ClipByValue",
    kernelFunc: ({ inputs, backend, attrs }) =>
      (backend as TorchBackend).exec1("ClipByValue", [inputs.x], [], [attrs!.clipValueMin as number, attrs!.clipValueMax as number]),
  },
  { kernelName: "Prelu", kernelFunc: ({ inputs, backend }) => (backend as TorchBackend).exec1("Prelu", [inputs.x, inputs.alpha]) },
  { kernelName: "EluGrad", kernelFunc: ({ inputs, backend }) => (backend as TorchBackend).exec1("EluGrad", [inputs.dy, inputs.y]) },
  {
    kernelName: "Select",
    kernelFunc: ({ inputs, backend }) => (backend as TorchBackend).exec1("Select", [inputs.condition, inputs.t, inputs.e]),
  },
  {
    kernelName: "AddN",
    kernelFunc: ({ inputs, backend }) => {
      const list = Object.values(inputs) as TensorInfo[];
      return list.length === 1 ? (backend as TorchBackend).share(list[0]) : (backend as TorchBackend).exec1("AddN", list);
    },
  },
];
