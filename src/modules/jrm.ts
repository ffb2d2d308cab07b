// JRM, the joint reasoning module (DESIGN §2): concat(x, s) along tokens → linear →
// multi-head self-attention → FFN (residual + LayerNorm each) → keep the N image tokens.
import { z } from "zod";
import { defineModule } from "../registry/define.js";

export const jrm = defineModule({
  name: "JRM",
  doc: "Joint reasoning: self-attention over the image tokens and the sentence token together, then an FFN.",
  params: z.object({
    heads: z.number().int().positive().default(8).describe("Attention heads; must divide the fusion width d."),
    ffn_mult: z.number().positive().default(4).describe("FFN hidden width as a multiple of d."),
    dropout: z.number().min(0).max(1).default(0.1).describe("Dropout on attention weights and sublayer outputs."),
  }),
  build: () => {
    throw new Error("JRM: not implemented yet");
  },
});
