// ARTEMIS (Delmas et al., ICLR 2022, "Attention-based Retrieval with Text-Explicit Matching and
// Implicit Similarity"), on L2-normalised r (the pooled reference) and m (the sentence):
//   EM = ⟨Tr(m), A_EM(m) ⊙ t⟩        explicit matching: the target against the text
//   IS = ⟨n(A_IS(m) ⊙ r), A_IS(m) ⊙ t⟩  implicit similarity: the target against the reference
// with A(m) = softmax(W₂ ReLU(W₁ m)) over the d channels and Tr(m) = n(W m), n = L2 normalisation.
// EM + IS = ⟨q, t⟩ with q = A_EM ⊙ Tr + A_IS ⊙ n(A_IS ⊙ r): one query vector, so an index and the
// server search it like any other. ARTEMIS's code also re-normalises each attended target
// (n(A ⊙ t)), which would tie the score to the target; that step is the one left out here.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { asTokens, l2Normalize } from "../nn/global.js";
import { linear } from "../nn/linear.js";
import type { ParamScope } from "../nn/scope.js";
import { defineModule } from "../registry/define.js";

/** A(m) = softmax(W₂ ReLU(W₁ m + b₁) + b₂) over the channels: (B, d) → (B, d), rows sum to 1. */
function channelAttention(scope: ParamScope, dim: number) {
  const fc1 = linear(scope.child("fc1"), dim, dim);
  const fc2 = linear(scope.child("fc2"), dim, dim);
  return (m: tf.Tensor2D) => tf.tidy(() => tf.softmax(fc2.apply(tf.relu(fc1.apply(m))), -1) as tf.Tensor2D);
}

export const artemis = defineModule({
  name: "ARTEMIS",
  doc: "ARTEMIS: explicit matching ⟨Tr(m), A_EM(m) ⊙ t⟩ plus implicit similarity ⟨n(A_IS(m) ⊙ r), A_IS(m) ⊙ t⟩, as one query vector (Delmas et al. 2022).",
  params: z.object({}),
  build: (_p, { dim, scope }) => {
    const transform = linear(scope.child("transform"), dim, dim); // Tr(m) before normalisation
    const attentionEM = channelAttention(scope.child("attention_em"), dim);
    const attentionIS = channelAttention(scope.child("attention_is"), dim);
    return {
      forward: ({ tokens, sentence, pooled }) =>
        tf.tidy(() => {
          const r = l2Normalize(pooled); // (B, d)
          const m = l2Normalize(sentence);
          const aEM = attentionEM(m);
          const aIS = attentionIS(m);
          const explicit = tf.mul(aEM, l2Normalize(transform.apply(m)));
          const implicit = tf.mul(aIS, l2Normalize(tf.mul(aIS, r)));
          return asTokens(tf.add(explicit, implicit) as tf.Tensor2D, tokens);
        }),
    };
  },
});
