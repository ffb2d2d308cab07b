// shared, the modality-agnostic router (the paper's SR): one MLP per sender on
// concat(mean-pooled module output, sentence).
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { defineRouter } from "../registry/define.js";
import { distribution, perSender, senderMlp } from "./mlp.js";

export const shared = defineRouter({
  name: "shared",
  doc: "Modality-agnostic routing (SR): one MLP on concat(mean-pooled tokens, sentence).",
  params: z.object({
    hidden: z.number().int().min(0).default(256).describe("Hidden width of each router MLP; 0 = a single linear layer."),
  }),
  build: (p, { dim, senders, receivers, final, scope }) => {
    const mlp = senderMlp(scope.child("mlps"), senders, 2 * dim, p.hidden, receivers);
    return {
      route: (pooled, sentence) =>
        tf.tidy(() => {
          const x = tf.concat([pooled.transpose([1, 0, 2]), perSender(sentence, senders)], 2) as tf.Tensor3D;
          return distribution(mlp.apply(x), final); // (M, B, 2d) → (B, M, R)
        }),
    };
  },
});
