// Consistency (docs/model.md §5): a distance between the pooled final output f̄ and the
// target t, plus one between f̄ and the sum of the pooled inputs of the last
// fusion layer's modules. Each term is averaged over the batch.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { defineLoss } from "../../registry/define.js";

/** (B, d), (B, d) → (B): 1 − cos, or ‖a − b‖² / d. */
export function distance(a: tf.Tensor2D, b: tf.Tensor2D, kind: "cosine" | "l2"): tf.Tensor1D {
  return tf.tidy(() => {
    if (kind === "l2") return tf.squaredDifference(a, b).mean(1) as tf.Tensor1D;
    const dot = tf.mul(a, b).sum(1);
    const norms = tf.mul(tf.norm(a, 2, 1), tf.norm(b, 2, 1)).maximum(1e-12);
    return tf.sub(1, tf.div(dot, norms)) as tf.Tensor1D;
  });
}

export const consistency = defineLoss({
  name: "consistency",
  doc: "Consistency: d(f̄, t) + d(f̄, Σ_i pooled inputs of the last layer), cosine (1 − cos) or l2 (‖a − b‖² / d).",
  params: z.object({
    weight: z.number().min(0).default(1).describe("λ_con: weight of this loss in the total"),
    distance: z.enum(["cosine", "l2"]).default("cosine").describe("cosine: 1 − cos(a, b); l2: squared Euclidean distance divided by d"),
  }),
  build: (p) => ({
    weight: p.weight,
    compute: ({ query, target, lastInputs }) =>
      tf.tidy(() => {
        const inputs = lastInputs.sum(1) as tf.Tensor2D; // (B, d)
        return tf.add(distance(query, target, p.distance).mean(), distance(query, inputs, p.distance).mean()) as tf.Scalar;
      }),
  }),
});
