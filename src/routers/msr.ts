// msr, the modality-specific router (docs/model.md): an image router and a text router of
// different architectures (§1 of the paper) — the image router pools its module's N region
// tokens (`pool`: attention by default, as `shared` does) before its MLP, the text router reads
// the sentence (and optionally the words) — their distributions combined by mean, product
// (renormalised) or a learned gate.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { zeros } from "../nn/scope.js";
import type { RouterRegions } from "../registry/kinds.js";
import { defineRouter } from "../registry/define.js";
import { attentionPool, poolParam, regionPool } from "./attention-pool.js";
import { distribution, perSender, senderMlp } from "./mlp.js";

export const msr = defineRouter({
  name: "msr",
  doc: "Modality-specific routing: an image router on its module's pooled region tokens and a text router on the sentence, combined by mean, product or a learned gate.",
  params: z.object({
    combine: z
      .enum(["mean", "product", "gate"])
      .default("mean")
      .describe("How the image and text distributions combine: mean, product (renormalised) or gate (learned)."),
    hidden: z.number().int().min(0).default(256).describe("Hidden width of each router MLP; 0 = a single linear layer."),
    pool: poolParam,
    words: z.boolean().default(false).describe("The text router also attention-pools the words (`text_query`) and reads [s; pooled words]."),
  }),
  build: (p, { dim, senders, receivers, final, scope }) => {
    const image = senderMlp(scope.child("image"), senders, dim, p.hidden, receivers);
    const text = senderMlp(scope.child("text"), senders, p.words ? 2 * dim : dim, p.hidden, receivers);
    /** (M, B, d) what each sender's image router reads */
    const imageInput = regionPool(scope, p.pool, senders, dim);
    const wordPool = p.words ? attentionPool(scope, "text_query", senders, dim) : null;
    /** (M, B, d or 2d) what each sender's text router reads */
    const textInput = (sentence: tf.Tensor2D, regions?: RouterRegions) => {
      const s = perSender(sentence, senders);
      if (!wordPool) return s;
      if (!regions) throw new Error(`${scope.path}: msr words: true reads the words; the caller passed none`);
      return tf.concat([s, wordPool.sharedTokens(regions.words, regions.mask)], 2) as tf.Tensor3D;
    };
    // combine = gate: a learned weight per sender, g_i = σ(gate_i) (starts at ½ = mean)
    const gate = p.combine === "gate" ? scope.param("gate", [senders], zeros) : null;
    return {
      route: (pooled, sentence, _fc, regions) =>
        tf.tidy(() => {
          const zImage = image.apply(imageInput(pooled, regions)); // (M, B, R)
          const zText = text.apply(textInput(sentence, regions));
          // product of the two softmaxes, renormalised = softmax of the summed logits
          if (p.combine === "product") return distribution(tf.add(zImage, zText), final);
          const pImage = distribution(zImage, final);
          const pText = distribution(zText, final);
          if (!gate) return tf.mul(tf.add(pImage, pText), 0.5) as tf.Tensor3D;
          const g = tf.sigmoid(gate).reshape([1, senders, 1]);
          const mixed = tf.add(tf.mul(g, pImage), tf.mul(tf.sub(1, g), pText));
          // rows of a hidden layer still sum to 1; the last layer's column is renormalised over M
          return (final ? tf.div(mixed, tf.sum(mixed, 1, true)) : mixed) as tf.Tensor3D;
        }),
    };
  },
});
