// shared, the modality-agnostic router (the paper's SR): one MLP per sender on
// concat(its module's pooled tokens, sentence). It pools the tokens as msr's image router does
// (`pool`, the same param and default), so SR and MSR differ in the modality split only.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { defineRouter } from "../registry/define.js";
import { poolParam, regionPool } from "./attention-pool.js";
import { distribution, perSender, senderMlp } from "./mlp.js";

export const shared = defineRouter({
  name: "shared",
  doc: "Modality-agnostic routing (SR): one MLP on concat(pooled tokens, sentence).",
  params: z.object({
    hidden: z.number().int().min(0).default(256).describe("Hidden width of each router MLP; 0 = a single linear layer."),
    pool: poolParam,
  }),
  build: (p, { dim, senders, receivers, final, scope }) => {
    const mlp = senderMlp(scope.child("mlps"), senders, 2 * dim, p.hidden, receivers);
    const tokens = regionPool(scope, p.pool, senders, dim);
    return {
      route: (pooled, sentence, _fc, regions) =>
        tf.tidy(() => {
          const x = tf.concat([tokens(pooled, regions), perSender(sentence, senders)], 2) as tf.Tensor3D;
          return distribution(mlp.apply(x), final); // (M, B, 2d) → (B, M, R)
        }),
    };
  },
});
