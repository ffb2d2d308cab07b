// NHWC convolution and batch norm over ParamStore variables.
// Conv weight [kh, kw, in, out] (PyTorch's [out, in, kh, kw] transposed by (2, 3, 1, 0)).
import * as tf from "@tensorflow/tfjs";
import { batchNormTrain } from "../backend/batch-norm.js";
import { heNormal, ones, type ParamScope, zeros } from "./scope.js";
import { conv2dFastGrad } from "./conv-grad.js";

export interface Conv2d {
  readonly weight: tf.Variable;
  apply(x: tf.Tensor4D): tf.Tensor4D;
}

export interface ConvOptions {
  kernel: number;
  inChannels: number;
  outChannels: number;
  stride?: number;
  /** Symmetric zero padding on each side (PyTorch's `padding`). */
  pad?: number;
  bias?: boolean;
  trainable?: boolean;
}

/** Creates `scope.weight` [k, k, in, out] (+ `scope.bias` [out]); He-normal init (fan-in). */
export function conv2d(scope: ParamScope, o: ConvOptions): Conv2d {
  const { kernel: k, inChannels, outChannels, stride = 1, pad = 0, trainable = true } = o;
  const weight = scope.param("weight", [k, k, inChannels, outChannels], heNormal(k * k * inChannels), trainable);
  const bias = o.bias ? scope.param("bias", [outChannels], zeros, trainable) : undefined;
  return {
    weight,
    apply: (x) =>
      tf.tidy(() => {
        if (x.shape[3] !== inChannels) {
          throw new Error(`${scope.path}: expected ${inChannels} input channels (NHWC), got shape [${x.shape}]`);
        }
        // cpu backend: its filter gradient is a naive loop; conv2dFastGrad computes it by a forward conv
        const y =
          tf.getBackend() === "cpu"
            ? conv2dFastGrad(x, weight as tf.Tensor4D, stride, pad)
            : tf.conv2d(x, weight as tf.Tensor4D, stride, pad === 0 ? "valid" : pad);
        return bias ? tf.add(y, bias) : y;
      }),
  };
}

export interface BatchNorm {
  /** train: normalise by batch moments and update the running stats; else use the running stats. */
  apply(x: tf.Tensor4D, train: boolean): tf.Tensor4D;
}

/**
 * Batch norm over N, H, W (PyTorch BatchNorm2d: eps 1e-5, momentum 0.1, running var unbiased).
 * `weight`/`bias` are trainable (unless frozen); `running_mean`/`running_var` never are.
 */
export function batchNorm(scope: ParamScope, channels: number, trainable = true, momentum = 0.1, eps = 1e-5): BatchNorm {
  const weight = scope.param("weight", [channels], ones, trainable);
  const bias = scope.param("bias", [channels], zeros, trainable);
  const runningMean = scope.param("running_mean", [channels], zeros, false);
  const runningVar = scope.param("running_var", [channels], ones, false);
  return {
    apply: (x, train) =>
      tf.tidy((): tf.Tensor4D => {
        if (!train) return tf.batchNorm(x, runningMean, runningVar, bias, weight, eps) as tf.Tensor4D;
        const n = x.size / channels;
        // Batch moments with plain-autodiff gradients (fused ATen kernels on the torch backend).
        return batchNormTrain(x, weight as tf.Tensor1D, bias as tf.Tensor1D, eps, (mean, variance) => {
          const unbiased = tf.mul(variance, n / Math.max(n - 1, 1));
          runningMean.assign(tf.add(tf.mul(runningMean, 1 - momentum), tf.mul(mean, momentum)));
          runningVar.assign(tf.add(tf.mul(runningVar, 1 - momentum), tf.mul(unbiased, momentum)));
        });
      }),
  };
}
