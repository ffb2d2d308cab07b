// Per-sender router MLPs, batched: every sender i has its own weights (named as PyTorch's
// ModuleList of Sequential: `{i}.0.*`, ReLU, `{i}.2.*`), stacked along a leading M axis at
// forward time so one batched matMul evaluates all M routers of a layer.
import * as tf from "@tensorflow/tfjs";
import { linear, type Linear } from "../nn/linear.js";
import type { ParamScope } from "../nn/scope.js";

export interface SenderMlp {
  /** x (M, B, in) → logits (M, B, out), sender i through its own MLP. */
  apply(x: tf.Tensor3D): tf.Tensor3D;
}

/** Sender i: `{i}.0.weight` [in, hidden], `{i}.0.bias`, `{i}.2.weight` [hidden, out], `{i}.2.bias`; hidden = 0: `{i}.0` only. */
export function senderMlp(scope: ParamScope, senders: number, inDim: number, hidden: number, outDim: number): SenderMlp {
  const perSender: Linear[][] = Array.from({ length: senders }, (_, i) =>
    hidden > 0
      ? [linear(scope.child(`${i}.0`), inDim, hidden), linear(scope.child(`${i}.2`), hidden, outDim)]
      : [linear(scope.child(`${i}.0`), inDim, outDim)],
  );
  const depth = perSender[0]!.length;
  return {
    apply: (x) =>
      tf.tidy(() => {
        let y: tf.Tensor3D = x;
        for (let k = 0; k < depth; k++) {
          const w = tf.stack(perSender.map((l) => l[k]!.weight)) as tf.Tensor3D; // (M, in, out)
          const b = tf.stack(perSender.map((l) => l[k]!.bias!)).expandDims(1); // (M, 1, out)
          y = tf.add(tf.matMul(y, w), b);
          if (k < depth - 1) y = tf.relu(y);
        }
        return y;
      }),
  };
}

/** (B, d) → (M, B, d): the same sentence for every sender's router. */
export const perSender = (x: tf.Tensor2D, senders: number): tf.Tensor3D =>
  tf.tidy(() => tf.tile(x.expandDims(0), [senders, 1, 1]) as tf.Tensor3D);

/**
 * logits (M, B, R) → probabilities (B, M, R): hidden layers softmax over the R receivers;
 * the last layer (R = 1) softmax over the M senders.
 */
export function distribution(logits: tf.Tensor3D, final: boolean): tf.Tensor3D {
  return tf.tidy(() => {
    const [m, b, r] = logits.shape;
    // tfjs softmax works on the last axis only: the final layer goes through (B, M)
    if (final) return tf.softmax(logits.reshape([m, b]).transpose()).reshape([b, m, 1]) as tf.Tensor3D;
    return tf.softmax(logits.transpose([1, 0, 2])).reshape([b, m, r]) as tf.Tensor3D;
  });
}
