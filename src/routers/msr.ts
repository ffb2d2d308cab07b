// msr, the modality-specific router (DESIGN §2): an image router on the mean-pooled module
// output and a text router on the sentence, each an MLP per sender; their distributions
// are combined by mean, product (renormalised) or a learned gate.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { zeros } from "../nn/scope.js";
import { defineRouter } from "../registry/define.js";
import { distribution, perSender, senderMlp } from "./mlp.js";

export const msr = defineRouter({
  name: "msr",
  doc: "Modality-specific routing: image and text routers, combined by mean, product or a learned gate.",
  params: z.object({
    combine: z
      .enum(["mean", "product", "gate"])
      .default("mean")
      .describe("How the image and text distributions combine: mean, product (renormalised) or gate (learned)."),
    hidden: z.number().int().min(0).default(256).describe("Hidden width of each router MLP; 0 = a single linear layer."),
  }),
  build: (p, { dim, senders, receivers, final, scope }) => {
    const image = senderMlp(scope.child("image"), senders, dim, p.hidden, receivers);
    const text = senderMlp(scope.child("text"), senders, dim, p.hidden, receivers);
    // combine = gate: a learned weight per sender, g_i = σ(gate_i) (starts at ½ = mean)
    const gate = p.combine === "gate" ? scope.param("gate", [senders], zeros) : null;
    return {
      route: (pooled, sentence) =>
        tf.tidy(() => {
          const zImage = image.apply(pooled.transpose([1, 0, 2]) as tf.Tensor3D); // (M, B, R)
          const zText = text.apply(perSender(sentence, senders));
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
