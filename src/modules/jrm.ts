// JRM, the joint reasoning module (docs/model.md §2): concat(x, s) along tokens → linear →
// multi-head self-attention → FFN (residual + LayerNorm each) → keep the N image tokens.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { multiHeadAttention } from "../nn/attention.js";
import { dropout } from "../nn/dropout.js";
import { feedForward } from "../nn/ffn.js";
import { layerNorm } from "../nn/layer-norm.js";
import { linear } from "../nn/linear.js";
import { defineModule } from "../registry/define.js";

export const jrm = defineModule({
  name: "JRM",
  doc: "Joint reasoning: self-attention over the image tokens and the sentence token together, then an FFN.",
  params: z.object({
    heads: z.number().int().positive().default(8).describe("Attention heads; must divide the fusion width d."),
    ffn_mult: z.number().positive().default(4).describe("FFN hidden width as a multiple of d."),
    dropout: z.number().min(0).max(1).default(0.1).describe("Dropout on attention weights and sublayer outputs."),
  }),
  build: (p, { dim, scope }) => {
    const inProj = linear(scope.child("input"), dim, dim);
    const attn = multiHeadAttention(scope.child("attn"), dim, p.heads, p.dropout);
    const norm1 = layerNorm(scope.child("norm1"), dim);
    const ffn = feedForward(scope.child("ffn"), dim, Math.round(dim * p.ffn_mult), p.dropout);
    const norm2 = layerNorm(scope.child("norm2"), dim);
    return {
      forward: ({ tokens, sentence }, fc) =>
        tf.tidy(() => {
          // z = linear([x; s]) (B, N+1, d). Attention, LN and FFN act per query token, so the N
          // image tokens' outputs need only their own queries over all N+1 keys: the sentence
          // token's own output (dropped by the module) is never computed.
          const zx = inProj.apply(tokens); // (B, N, d)
          const z = tf.concat([zx, inProj.apply(sentence).expandDims(1)], 1) as tf.Tensor3D; // (B, N+1, d)
          const h = norm1.apply(tf.add(zx, dropout(attn.apply(zx, z, null, fc), p.dropout, fc)) as tf.Tensor3D);
          return norm2.apply(tf.add(h, dropout(ffn.apply(h, fc), p.dropout, fc)) as tf.Tensor3D);
        }),
    };
  },
});
