// CAM, the cross-attention module (docs/model.md §2): queries from LN(x), keys and values from
// the (masked) word features → multi-head attention → residual → FFN (pre-norm residual).
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { multiHeadAttention } from "../nn/attention.js";
import { dropout } from "../nn/dropout.js";
import { feedForward } from "../nn/ffn.js";
import { layerNorm } from "../nn/layer-norm.js";
import { defineModule } from "../registry/define.js";

export const cam = defineModule({
  name: "CAM",
  doc: "Cross attention: image tokens attend to the word features (padding masked), then an FFN.",
  params: z.object({
    heads: z.number().int().positive().default(8).describe("Attention heads; must divide the fusion width d."),
    ffn_mult: z.number().positive().default(4).describe("FFN hidden width as a multiple of d."),
    dropout: z.number().min(0).max(1).default(0.1).describe("Dropout on attention weights and sublayer outputs."),
  }),
  build: (p, { dim, scope }) => {
    const norm1 = layerNorm(scope.child("norm1"), dim);
    const attn = multiHeadAttention(scope.child("attn"), dim, p.heads, p.dropout);
    const norm2 = layerNorm(scope.child("norm2"), dim);
    const ffn = feedForward(scope.child("ffn"), dim, Math.round(dim * p.ffn_mult), p.dropout);
    return {
      forward: ({ tokens, words, wordMask }, fc) =>
        tf.tidy(() => {
          const h = tf.add(tokens, dropout(attn.apply(norm1.apply(tokens), words, wordMask, fc), p.dropout, fc)) as tf.Tensor3D;
          return tf.add(h, dropout(ffn.apply(norm2.apply(h), fc), p.dropout, fc)) as tf.Tensor3D;
        }),
    };
  },
});
