// The ResNet family (torchvision v1.5 layout, NHWC) as one builder plus a table of depths:
// resnet18/34 use basic blocks, resnet50/101 bottlenecks. Last feature map → 1×1 conv to d.
import { z } from "zod";
import { defineImageEncoder } from "../registry/define.js";

/** Blocks per stage and block type, as timm's `model_args`. */
export const RESNET_DEPTHS = {
  resnet18: { block: "basic", layers: [2, 2, 2, 2] },
  resnet34: { block: "basic", layers: [3, 4, 6, 3] },
  resnet50: { block: "bottleneck", layers: [3, 4, 6, 3] },
  resnet101: { block: "bottleneck", layers: [3, 4, 23, 3] },
} as const;
export type ResnetName = keyof typeof RESNET_DEPTHS;

export const resnetParams = z.object({
  dim: z.number().int().positive().default(1024).describe("Fusion width d: output channels of the 1×1 projection."),
  weights: z
    .string()
    .optional()
    .describe("Local safetensors file of ImageNet weights (relative to the recipe); omitted = random init."),
  naming: z
    .enum(["torchvision", "timm"])
    .default("torchvision")
    .describe("Parameter naming of the weights file (see docs/weights.md)."),
  freeze: z
    .enum(["none", "stem", "layer1", "layer2", "layer3", "all"])
    .default("none")
    .describe("Freeze the backbone up to and including this stage: weights fixed, batch norm in eval mode."),
});

const declare = (name: ResnetName) =>
  defineImageEncoder({
    name,
    doc: `${name} backbone (torchvision layout, NHWC, batch norm), last feature map projected to d by a 1×1 conv.`,
    params: resnetParams,
    build: () => {
      throw new Error(`${name}: not implemented yet`);
    },
  });

export const resnet18 = declare("resnet18");
export const resnet34 = declare("resnet34");
export const resnet50 = declare("resnet50");
export const resnet101 = declare("resnet101");
