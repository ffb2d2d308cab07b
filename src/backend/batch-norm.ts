// Batch norm in training mode (normalise by the batch moments over every axis but the last).
// On the torch backend it is two fused ATen kernels (forward, backward) instead of the ~20
// elementwise passes tfjs's autodiff makes of the written-out formula; elsewhere it is that formula.
import * as tf from "@tensorflow/tfjs";

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
  if (tf.getBackend() !== "torch") return composed(x, gamma, beta, eps, onStats);
  let stats: tf.Tensor[] = [];
  const forward = (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [out, mean, invstd] = tf.engine().runKernel("SdfnBatchNormTrain", { x: xs, gamma: g, beta: b }, { eps }) as tf.Tensor[];
    save([xs, g, mean, invstd]);
    if (onStats) stats = [tf.keep(mean.clone()), tf.keep(invstd.clone())]; // outlive customGrad's scope
    return {
      value: out,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sg, sm, si] = saved;
        return tf.engine().runKernel("SdfnBatchNormTrainGrad", { dy: dy as tf.Tensor, x: sx, gamma: sg, mean: sm, invstd: si }, { eps }) as tf.Tensor[];
      },
    };
  };
  const y = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0])(x, gamma, beta) as T;
  if (onStats) {
    const [mean, invstd] = stats;
    try {
      tf.tidy(() => onStats(mean as tf.Tensor1D, tf.sub(tf.reciprocal(tf.square(invstd)), eps) as tf.Tensor1D));
    } finally {
      tf.dispose(stats);
    }
  }
  return y;
}

function composed<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, onStats?: (m: tf.Tensor1D, v: tf.Tensor1D) => void): T {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, x.shape.map((_, k) => k).slice(0, -1));
    if (onStats) onStats(mean as tf.Tensor1D, variance as tf.Tensor1D);
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(normed, gamma), beta) as T;
  });
}
