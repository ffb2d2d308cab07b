// LayerNorm over the last axis: (x − mean) / √(var + eps) · weight + bias (biased variance, as PyTorch).
import * as tf from "@tensorflow/tfjs";
import { ones, type ParamScope, zeros } from "./scope.js";

export interface LayerNorm {
  apply<T extends tf.Tensor>(x: T): T;
}

export function layerNorm(scope: ParamScope, dim: number, eps = 1e-5, trainable = true): LayerNorm {
  const weight = scope.param("weight", [dim], ones, trainable);
  const bias = scope.param("bias", [dim], zeros, trainable);
  return {
    apply<T extends tf.Tensor>(x: T): T {
      return tf.tidy(() => {
        const { mean, variance } = tf.moments(x, -1, true);
        const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
        return tf.add(tf.mul(normed, weight), bias) as T;
      });
    },
  };
}
