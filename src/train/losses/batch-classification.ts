// TIRG's batch-based classification loss: q and t L2-normalised, each scaled by
// a learnable scalar s (init 4, so logits start at s²·cos = 16·cos), then
// cross-entropy of query i against all targets of the batch with label i.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { constant } from "../../nn/scope.js";
import { defineLoss } from "../../registry/define.js";

export const batchClassification = defineLoss({
  name: "batch_classification",
  doc: "TIRG batch classification: cross-entropy of each query against the batch's targets, cosine logits scaled by a learnable s² (s init 4).",
  params: z.object({
    weight: z.number().min(0).default(1).describe("λ_cls: weight of this loss in the total"),
    scale: z.number().positive().default(4).describe("initial value of the learnable scale s applied to both normalised q and t"),
    learn_scale: z.boolean().default(true).describe("train s (false keeps it fixed at `scale`)"),
  }),
  build: (p, ctx) => {
    const s = ctx.scope.param("scale", [], constant(p.scale), p.learn_scale);
    return {
      weight: p.weight,
      compute: ({ query, target }) =>
        tf.tidy(() => {
          const q = tf.mul(tf.div(query, tf.norm(query, 2, 1, true).maximum(1e-12)), s);
          const t = tf.mul(tf.div(target, tf.norm(target, 2, 1, true).maximum(1e-12)), s);
          const logits = tf.matMul(q, t, false, true); // (B, B)
          const logProb = tf.logSoftmax(logits, 1);
          const diag = tf.mul(logProb, tf.eye(query.shape[0])).sum(1); // (B) log p(i | q_i)
          return tf.neg(diag.mean()) as tf.Scalar;
        }),
    };
  },
});
