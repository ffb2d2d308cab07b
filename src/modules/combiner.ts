// CLIP4Cir's Combiner (Baldrati et al., CVPR-W 2022 / TOMM 2023, "Effective conditioned and
// composed image retrieval combining CLIP-based features"): text and image features projected
// (ReLU, dropout) and concatenated, a hidden layer mixes them, and a learned gate λ ∈ (0, 1) adds
// a convex mix of the two inputs:  out = n(W_o c + λ s + (1 − λ) r),  n = L2 normalisation.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { dropout } from "../nn/dropout.js";
import { asTokens, l2Normalize } from "../nn/global.js";
import { linear } from "../nn/linear.js";
import { defineModule } from "../registry/define.js";

export const combiner = defineModule({
  name: "Combiner",
  doc: "CLIP4Cir's Combiner: projected text and image features, concatenated → hidden layer → output, plus a dynamic scalar λ mixing the inputs: n(W_o c + λ s + (1 − λ) r) (Baldrati et al. 2022).",
  params: z.object({
    projection_mult: z.number().positive().default(4).describe("Width of each projection as a multiple of d (CLIP4Cir: 4)."),
    hidden_mult: z.number().positive().default(8).describe("Width of the combining layer and of λ's hidden layer as a multiple of d (CLIP4Cir: 8)."),
    dropout: z.number().min(0).max(1).default(0.5).describe("Dropout on the projections, the combining layer and λ's hidden layer (CLIP4Cir: 0.5)."),
  }),
  build: (p, { dim, scope }) => {
    const width = Math.round(dim * p.projection_mult);
    const hidden = Math.round(dim * p.hidden_mult);
    const textProjection = linear(scope.child("text_projection"), dim, width);
    const imageProjection = linear(scope.child("image_projection"), dim, width);
    const combine = linear(scope.child("combiner"), 2 * width, hidden);
    const output = linear(scope.child("output"), hidden, dim);
    const scalar1 = linear(scope.child("scalar.fc1"), 2 * width, hidden);
    const scalar2 = linear(scope.child("scalar.fc2"), hidden, 1);
    return {
      forward: ({ tokens, sentence: s, pooled: r }, fc) =>
        tf.tidy(() => {
          const drop = (x: tf.Tensor2D) => dropout(x, p.dropout, fc);
          const projected = tf.concat([drop(tf.relu(textProjection.apply(s))), drop(tf.relu(imageProjection.apply(r)))], 1) as tf.Tensor2D; // (B, 2P)
          const c = drop(tf.relu(combine.apply(projected)));
          const lambda = tf.sigmoid(scalar2.apply(drop(tf.relu(scalar1.apply(projected))))); // (B, 1)
          const mixed = tf.add(tf.mul(lambda, s), tf.mul(tf.sub(1, lambda), r));
          return asTokens(l2Normalize(tf.add(output.apply(c), mixed) as tf.Tensor2D), tokens);
        }),
    };
  },
});
