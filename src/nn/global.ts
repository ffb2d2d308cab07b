// Helpers of the global composition modules (TIRG, ARTEMIS, CLIP4Cir's Combiner), which compose
// one vector per sample rather than per region token: L2 normalisation, and the composed vector
// laid over the N token positions, so the network's mean pooling gives it back.
import * as tf from "@tensorflow/tfjs";

/** x / max(‖x‖₂, 1e-12) over the last axis (PyTorch's F.normalize). */
export function l2Normalize<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 2, -1, true), 1e-12)) as T);
}

/**
 * (B, d) → (B, N, d) with every token equal to the vector, N taken from `like` (B, N, d).
 * A broadcast add rather than a tile: its gradient is one sum over the token axis.
 */
export function asTokens(v: tf.Tensor2D, like: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => tf.add(tf.zerosLike(like), v.expandDims(1)) as tf.Tensor3D);
}
