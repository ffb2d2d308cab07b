// Convolutions, pooling, matrix products, batch normalisation and bilinear resizing. Window
// geometry (pads, strides, dilations) comes from tfjs's own conv_util so output shapes match tfjs exactly.
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";

import type { TorchBackend } from "../backend.js";
import { cpuKernel, runOnCpu } from "../fallback.js";

type Kernel = Omit<KernelConfig, "backendName">;
type Shape4 = [number, number, number, number];
type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

const activations: Record<string, number> = { linear: 0, relu: 1, relu6: 2, prelu: 3, leakyrelu: 4, sigmoid: 5, elu: 6 };

function activationCode(name: unknown): number | undefined {
  return activations[(name as string | undefined) ?? "linear"];
}

// ints: strideH, strideW, dilationH, dilationW, top, bottom, left, right
function geometry(c: ConvInfo): number[] {
  const p = c.padInfo;
  return [c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth, p.top, p.bottom, p.left, p.right];
}

function convInfo(xShape: number[], filterShape: number[], attrs: NamedAttrMap, depthwise: boolean): ConvInfo {
  const a = attrs as Record<string, never>;
  return tf.backend_util.computeConv2DInfo(xShape as Shape4, filterShape as Shape4, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, depthwise);
}

const channelsLast = (attrs: NamedAttrMap) => attrs.dataFormat === undefined || attrs.dataFormat === "NHWC";

/** Conv2D, DepthwiseConv2dNative and their fused variants (bias + activation). */
function convForward(kernel: string, depthwise: boolean): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const act = activationCode(attrs!.activation);
    if (!channelsLast(attrs!) || act === undefined) return runOnCpu(backend as TorchBackend, kernel, args, `${kernel} (NCHW or unknown activation)`);
    const x = inputs.x as TensorInfo;
    const filter = inputs.filter as TensorInfo;
    const info = convInfo(x.shape, filter.shape, attrs!, depthwise);
    const ints = [...geometry(info), depthwise ? 1 : 0, act];
    return (backend as TorchBackend).exec1("Conv2D", [x, filter, inputs.bias, inputs.preluActivationWeights], ints, [(attrs!.leakyreluAlpha as number) ?? 0.2]);
  };
}

function convBackpropInput(kernel: string, depthwise: boolean): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    if (!channelsLast(attrs!)) return runOnCpu(backend as TorchBackend, kernel, args, `${kernel} (NCHW)`);
    const dy = inputs.dy as TensorInfo;
    const filter = inputs.filter as TensorInfo;
    const inputShape = attrs!.inputShape as number[];
    const info = convInfo(inputShape, filter.shape, attrs!, depthwise);
    return (backend as TorchBackend).exec1("Conv2DBackpropInput", [dy, filter], [...geometry(info), depthwise ? 1 : 0, ...inputShape]);
  };
}

function convBackpropFilter(kernel: string, depthwise: boolean): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    if (!channelsLast(attrs!)) return runOnCpu(backend as TorchBackend, kernel, args, `${kernel} (NCHW)`);
    const x = inputs.x as TensorInfo;
    const filterShape = attrs!.filterShape as number[];
    const info = convInfo(x.shape, filterShape, attrs!, depthwise);
    return (backend as TorchBackend).exec1("Conv2DBackpropFilter", [x, inputs.dy], [...geometry(info), depthwise ? 1 : 0, ...filterShape]);
  };
}

// ints: filterH, filterW, geometry
function poolInts(xShape: number[], attrs: NamedAttrMap): number[] {
  const a = attrs as Record<string, never>;
  const info = tf.backend_util.computePool2DInfo(xShape as Shape4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  return [info.filterHeight, info.filterWidth, ...geometry(info)];
}

const pool = (name: string): KernelFunc => ({ inputs, backend, attrs }) => {
  const x = inputs.x as TensorInfo;
  return (backend as TorchBackend).exec1(name, [x], poolInts(x.shape, attrs!));
};

const matMul: KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const act = activationCode(attrs!.activation);
  if (act === undefined) return cpuKernel("_FusedMatMul")(args);
  const ints = [attrs!.transposeA ? 1 : 0, attrs!.transposeB ? 1 : 0, act];
  return (backend as TorchBackend).exec1("BatchMatMul", [inputs.a, inputs.b, inputs.bias, inputs.preluActivationWeights], ints, [(attrs!.leakyreluAlpha as number) ?? 0.2]);
};

export const nnKernels: Kernel[] = [
  { kernelName: "Conv2D", kernelFunc: convForward("Conv2D", false) },
  { kernelName: "FusedConv2D", kernelFunc: convForward("FusedConv2D", false) },
  { kernelName: "DepthwiseConv2dNative", kernelFunc: convForward("DepthwiseConv2dNative", true) },
  { kernelName: "FusedDepthwiseConv2D", kernelFunc: convForward("FusedDepthwiseConv2D", true) },
  { kernelName: "Conv2DBackpropInput", kernelFunc: convBackpropInput("Conv2DBackpropInput", false) },
  { kernelName: "DepthwiseConv2dNativeBackpropInput", kernelFunc: convBackpropInput("DepthwiseConv2dNativeBackpropInput", true) },
  { kernelName: "Conv2DBackpropFilter", kernelFunc: convBackpropFilter("Conv2DBackpropFilter", false) },
  { kernelName: "DepthwiseConv2dNativeBackpropFilter", kernelFunc: convBackpropFilter("DepthwiseConv2dNativeBackpropFilter", true) },
  { kernelName: "MaxPool", kernelFunc: pool("MaxPool") },
  { kernelName: "AvgPool", kernelFunc: pool("AvgPool") },
  {
    kernelName: "MaxPoolGrad",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs.input as TensorInfo;
      return (backend as TorchBackend).exec1("MaxPoolGrad", [inputs.dy, x, inputs.output], poolInts(x.shape, attrs!));
    },
  },
  {
    kernelName: "AvgPoolGrad",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs.input as TensorInfo;
      return (backend as TorchBackend).exec1("AvgPoolGrad", [inputs.dy, x], poolInts(x.shape, attrs!));
    },
  },
  { kernelName: "BatchMatMul", kernelFunc: matMul },
  { kernelName: "_FusedMatMul", kernelFunc: matMul },
  {
    kernelName: "FusedBatchNorm",
    kernelFunc: ({ inputs, backend, attrs }) =>
      (backend as TorchBackend).exec1("FusedBatchNorm", [inputs.x, inputs.mean, inputs.variance, inputs.offset, inputs.scale], [], [
        (attrs!.varianceEpsilon as number) ?? 0.001,
      ]),
  },
  // tf.image.resizeBilinear, (B, H, W, C) → (B, newHeight, newWidth, C); its gradient is tfjs's
  // registered one, which runs ResizeBilinearGrad (below) with the same attributes.
  {
    kernelName: "ResizeBilinear",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const [height, width] = attrs!.size as [number, number];
      return (backend as TorchBackend).exec1("ResizeBilinear", [inputs.images], [attrs!.alignCorners ? 1 : 0, attrs!.halfPixelCenters ? 1 : 0, height, width]);
    },
  },
  {
    kernelName: "ResizeBilinearGrad",
    kernelFunc: ({ inputs, backend, attrs }) => (backend as TorchBackend).exec1("ResizeBilinearGrad", [inputs.images, inputs.dy], [attrs!.alignCorners ? 1 : 0]),
  },
];
