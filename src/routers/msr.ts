// msr, the modality-specific router (DESIGN §2): an image router on the mean-pooled module
// output and a text router on the sentence, each an MLP per sender; their distributions
// are combined by mean, product (renormalised) or a learned gate.
import { z } from "zod";
import { defineRouter } from "../registry/define.js";

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
  build: () => {
    throw new Error("msr: not implemented yet");
  },
});
