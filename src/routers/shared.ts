// shared, the modality-agnostic router (the paper's SR): one MLP per sender on
// concat(mean-pooled module output, sentence).
import { z } from "zod";
import { defineRouter } from "../registry/define.js";

export const shared = defineRouter({
  name: "shared",
  doc: "Modality-agnostic routing (SR): one MLP on concat(mean-pooled tokens, sentence).",
  params: z.object({
    hidden: z.number().int().min(0).default(256).describe("Hidden width of each router MLP; 0 = a single linear layer."),
  }),
  build: () => {
    throw new Error("shared: not implemented yet");
  },
});
