// CAM, the cross-attention module (DESIGN §2): queries from LN(x), keys and values from
// the (masked) word features → multi-head attention → residual → FFN.
import { z } from "zod";
import { defineModule } from "../registry/define.js";

export const cam = defineModule({
  name: "CAM",
  doc: "Cross attention: image tokens attend to the word features (padding masked), then an FFN.",
  params: z.object({
    heads: z.number().int().positive().default(8).describe("Attention heads; must divide the fusion width d."),
    ffn_mult: z.number().positive().default(4).describe("FFN hidden width as a multiple of d."),
    dropout: z.number().min(0).max(1).default(0.1).describe("Dropout on attention weights and sublayer outputs."),
  }),
  build: () => {
    throw new Error("CAM: not implemented yet");
  },
});
