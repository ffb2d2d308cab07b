// small_cnn: a few stride-2 conv + batch norm + ReLU stages, for the quickstart and tests.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { batchNorm, conv2d } from "../nn/conv.js";
import { defineImageEncoder } from "../registry/define.js";
import { projectedEncoder } from "./projection.js";

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
    batch_norm: z.boolean().default(true).describe("Batch norm after each conv (else the conv has a bias)."),
  }),
  build: (p, { scope }) => {
    const root = scope.child("backbone");
    // image.backbone.stages.{i}.0 (conv), .1 (batch norm): PyTorch's Sequential(conv, bn, relu)
    const stages = p.channels.map((out, i) => {
      const s = root.child(`stages.${i}`);
      const inChannels = i === 0 ? 3 : p.channels[i - 1]!;
      const conv = conv2d(s.child("0"), { kernel: 3, inChannels, outChannels: out, stride: 2, pad: 1, bias: !p.batch_norm });
      return { conv, bn: p.batch_norm ? batchNorm(s.child("1"), out) : null };
    });
    const channels = p.channels[p.channels.length - 1]!;
    return projectedEncoder(scope, p.dim, channels, {
      channels,
      frozen: false,
      apply: (images, fc) =>
        tf.tidy(() =>
          stages.reduce((x, { conv, bn }) => {
            const y = conv.apply(x);
            return tf.relu(bn ? bn.apply(y, fc.training) : y);
          }, images),
        ),
      grid: (size) => p.channels.reduce((s) => Math.floor((s + 1) / 2), size),
    });
  },
});
