// features: precomputed backbone feature maps (B, h, w, C) in, 1×1 conv to d out
// (frozen-backbone training with a feature cache).
import { z } from "zod";
import { defineImageEncoder } from "../registry/define.js";
import { projectedEncoder } from "./projection.js";

export const features = defineImageEncoder({
  name: "features",
  doc: "Precomputed feature maps (B, h, w, channels) projected to d by a 1×1 conv (frozen-backbone training).",
  params: z.object({
    dim: z.number().int().positive().default(1024).describe("Fusion width d: output channels of the 1×1 projection."),
    channels: z.number().int().positive().default(2048).describe("Channels of the stored feature maps (2048 for resnet50)."),
  }),
  build: (p, { scope }) => projectedEncoder(scope, p.dim, p.channels),
});
