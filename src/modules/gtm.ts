// GTM, the global transformation module (docs/model.md §2): FiLM of the image tokens by the
// sentence, γ = W_γ s + b_γ, β = W_β s + b_β, out = γ ⊙ x + β. b_γ starts at 1 so the
// module starts near the identity.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { linear } from "../nn/linear.js";
import { ones } from "../nn/scope.js";
import { defineModule } from "../registry/define.js";

export const gtm = defineModule({
  name: "GTM",
  doc: "Global transformation (FiLM): out = γ(s) ⊙ x + β(s), γ and β linear in the sentence feature.",
  params: z.object({}),
  build: (_p, { dim, scope }) => {
    const gamma = linear(scope.child("gamma"), dim, dim, { biasInit: ones });
    const beta = linear(scope.child("beta"), dim, dim);
    return {
      forward: ({ tokens, sentence }) =>
        tf.tidy(() => {
          const g = gamma.apply(sentence).expandDims(1); // (B, 1, d)
          const b = beta.apply(sentence).expandDims(1);
          return tf.add(tf.mul(g, tokens), b) as tf.Tensor3D;
        }),
    };
  },
});
