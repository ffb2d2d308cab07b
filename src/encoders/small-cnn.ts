// small_cnn: a few stride-2 conv + batch norm + ReLU stages, for the quickstart and tests.
import { z } from "zod";
import { defineImageEncoder } from "../registry/define.js";

export const smallCnn = defineImageEncoder({
  name: "small_cnn",
  doc: "A small CNN (stride-2 3×3 conv, batch norm, ReLU per stage), projected to d by a 1×1 conv.",
  params: z.object({
    dim: z.number().int().positive().default(128).describe("Fusion width d: output channels of the 1×1 projection."),
    channels: z
      .array(z.number().int().positive())
      .min(1)
      .default([32, 64, 128])
      .describe("Output channels of each stage; each stage halves the resolution."),
  }),
  build: () => {
    throw new Error("small_cnn: not implemented yet");
  },
});
