// Batch norm in training mode (normalise by the batch moments over every axis but the last) as
// two tfjs kernels with a registered gradient: SdfnBatchNormTrain (x, gamma, beta → y, mean,
// 1/sqrt(var + eps)) and SdfnBatchNormTrainGrad. The torch backend runs them as fused ATen
// kernels; every other backend as the written-out formulas below (./composite.ts).
import * as tf from "@tensorflow/tfjs";

import { defineComposite } from "./composite.js";

const FORWARD = "SdfnBatchNormTrain";
const BACKWARD = "SdfnBatchNormTrainGrad";

/**
 * (x − mean) / sqrt(var + eps) · gamma + beta for x (…, C), with the batch's mean and biased
 * variance over all axes but the last; gradients flow to x, gamma and beta. `onStats` receives
 * the (C) moments (for running statistics; no gradient flows through them) and must not keep
 * them: they are disposed when it returns.
 */
export function batchNormTrain<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  onStats?: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void,
): T {
  const [y, mean, invstd] = tf.engine().runKernel(FORWARD, { x, gamma, beta }, { eps }) as tf.Tensor[];
  try {
    if (onStats) tf.tidy(() => onStats(mean as tf.Tensor1D, tf.sub(tf.reciprocal(tf.square(invstd)), eps) as tf.Tensor1D));
  } finally {
    tf.dispose([mean, invstd]); // the tape keeps its own references to what the gradient needs
  }
  return y as T;
}

const channelAxes = (x: tf.Tensor) => x.shape.map((_, k) => k).slice(0, -1);

tf.registerGradient({
  kernelName: FORWARD,
  inputsToSave: ["x", "gamma"],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [x, gamma, mean, invstd] = saved;
    const dy = Array.isArray(dys) ? dys[0] : dys;
    const [dx, dgamma, dbeta] = tf.engine().runKernel(BACKWARD, { dy, x, gamma, mean, invstd }, { eps: attrs.eps }) as tf.Tensor[];
    return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
  },
});

defineComposite(FORWARD, ({ x, gamma, beta }, attrs) => {
  const { mean, variance } = tf.moments(x, channelAxes(x));
  const invstd = tf.rsqrt(tf.add(variance, attrs.eps as number));
  return [tf.add(tf.mul(tf.mul(tf.sub(x, mean), invstd), gamma), beta), mean, invstd];
});

// d/dx of the normalisation with batch statistics: gamma·invstd/N · (N·dy − Σdy − x̂·Σ(dy·x̂)).
defineComposite(BACKWARD, ({ dy, x, gamma, mean, invstd }) => {
  const axes = channelAxes(x);
  const n = x.size / x.shape[x.shape.length - 1];
  const xhat = tf.mul(tf.sub(x, mean), invstd);
  const dbeta = tf.sum(dy, axes);
  const dgamma = tf.sum(tf.mul(dy, xhat), axes);
  const inner = tf.sub(tf.sub(tf.mul(dy, n), dbeta), tf.mul(xhat, dgamma));
  return [tf.mul(tf.mul(gamma, tf.div(invstd, n)), inner), dgamma, dbeta];
});
