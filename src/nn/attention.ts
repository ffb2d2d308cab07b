// Multi-head attention with a key padding mask. Parameters q, k, v, o (Linear d → d each).
import * as tf from "@tensorflow/tfjs";
import type { ForwardContext } from "./context.js";
import { dropout } from "./dropout.js";
import { linear } from "./linear.js";
import type { ParamScope } from "./scope.js";

export interface Attention {
  /**
   * queries (B, Nq, d), keys/values (B, Nk, d), keyMask (B, Nk) float 1 = attend, 0 = padding
   * → (B, Nq, d) = o(concat_h softmax(Q_h K_hᵀ / √dh + mask) V_h).
   */
  apply(queries: tf.Tensor3D, keys: tf.Tensor3D, keyMask: tf.Tensor2D | null, fc: ForwardContext): tf.Tensor3D;
}

/** Masked-out keys get this added to their logits (exp underflows to 0, no NaN when all are masked). */
const MASKED = -1e9;

export function multiHeadAttention(scope: ParamScope, dim: number, heads: number, rate = 0): Attention {
  if (dim % heads !== 0) {
    throw new Error(`${scope.path}: the fusion width ${dim} is not divisible by heads = ${heads}; pick heads dividing ${dim}`);
  }
  const dh = dim / heads;
  const [q, k, v, o] = ["q", "k", "v", "o"].map((n) => linear(scope.child(n), dim, dim)) as [
    ReturnType<typeof linear>,
    ReturnType<typeof linear>,
    ReturnType<typeof linear>,
    ReturnType<typeof linear>,
  ];
  // (B, N, d) → (B, h, N, dh)
  const split = (x: tf.Tensor3D) => x.reshape([x.shape[0], x.shape[1], heads, dh]).transpose([0, 2, 1, 3]);
  return {
    apply(queries, keys, keyMask, fc) {
      return tf.tidy(() => {
        const [b, nq] = queries.shape;
        const qh = split(q.apply(queries));
        const kh = split(k.apply(keys));
        const vh = split(v.apply(keys));
        let logits = tf.mul(tf.matMul(qh, kh, false, true), 1 / Math.sqrt(dh)); // (B, h, Nq, Nk)
        if (keyMask) {
          const bias = tf.mul(tf.sub(1, keyMask), MASKED).reshape([b, 1, 1, keyMask.shape[1]]);
          logits = tf.add(logits, bias);
        }
        // masked keys may be padding (words): their axis must not shift the dropout draws
        const weights = dropout(tf.softmax(logits, -1), rate, fc, keyMask ? 3 : undefined);
        const heads_ = tf.matMul(weights, vh); // (B, h, Nq, dh)
        const merged = heads_.transpose([0, 2, 1, 3]).reshape([b, nq, dim]) as tf.Tensor3D;
        return o.apply(merged);
      });
    },
  };
}
