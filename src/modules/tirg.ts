// TIRG (Vo et al., CVPR 2019, "Composing Text and Image for Image Retrieval"): the image feature
// is kept, gated by the text, plus a residual computed from both:
//   f_gate = σ(W_g2 ReLU(W_g1 [x; s])) ⊙ x,  f_res = W_r2 ReLU(W_r1 [x; s]),  out = w_g f_gate + w_r f_res
// with learned scalars w_g, w_r (TIRG's code starts them at 1 and 10). The paper's batch norm on
// the concatenation is left out: a query's embedding should not depend on its batch.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { asTokens } from "../nn/global.js";
import { linear } from "../nn/linear.js";
import { constant } from "../nn/scope.js";
import { defineModule } from "../registry/define.js";

export const tirg = defineModule({
  name: "TIRG",
  doc: "TIRG: gated image feature plus a text-image residual, out = w_g·σ(MLP_g[x; s]) ⊙ x + w_r·MLP_r[x; s] (Vo et al. 2019).",
  params: z.object({
    apply_to: z
      .enum(["pooled", "tokens"])
      .default("pooled")
      .describe("pooled: compose the pooled image feature (TIRG's model) and give every token the result; tokens: compose each region token (TIRG on the last conv map, 1×1)."),
    hidden_mult: z.number().positive().default(2).describe("Hidden width of both MLPs as a multiple of d (TIRG: 2d)."),
    gate_weight: z.number().default(1).describe("Initial w_g, the gate path's learned weight."),
    residual_weight: z.number().default(10).describe("Initial w_r, the residual path's learned weight."),
  }),
  build: (p, { dim, scope }) => {
    const hidden = Math.round(dim * p.hidden_mult);
    const gate1 = linear(scope.child("gate.fc1"), 2 * dim, hidden);
    const gate2 = linear(scope.child("gate.fc2"), hidden, dim);
    const res1 = linear(scope.child("residual.fc1"), 2 * dim, hidden);
    const res2 = linear(scope.child("residual.fc2"), hidden, dim);
    const wGate = scope.param("gate_weight", [1], constant(p.gate_weight));
    const wResidual = scope.param("residual_weight", [1], constant(p.residual_weight));
    /** x (…, d) composed with s broadcast to it. */
    const compose = <T extends tf.Tensor>(x: T, s: tf.Tensor): T =>
      tf.tidy(() => {
        const xs = tf.concat([x, tf.add(tf.zerosLike(x), s)], -1); // [x; s] (…, 2d)
        const gate = tf.mul(tf.sigmoid(gate2.apply(tf.relu(gate1.apply(xs)))), x);
        const residual = res2.apply(tf.relu(res1.apply(xs)));
        return tf.add(tf.mul(wGate, gate), tf.mul(wResidual, residual)) as T;
      });
    return {
      forward: ({ tokens, sentence, pooled }) =>
        tf.tidy(() =>
          p.apply_to === "pooled"
            ? asTokens(compose(pooled, sentence), tokens) // (B, d) → every token
            : compose(tokens, sentence.expandDims(1)), // (B, N, d)
        ),
    };
  },
});
