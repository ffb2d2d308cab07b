// The ResNet family (torchvision v1.5 layout, NHWC) as one builder plus a table of depths:
// resnet18/34 use basic blocks, resnet50/101 bottlenecks. Last feature map → 1×1 conv to d.
// Parameter names follow torchvision under `image.backbone.` (docs/weights.md).
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { batchNorm, conv2d, type BatchNorm, type Conv2d } from "../nn/conv.js";
import type { ParamScope } from "../nn/scope.js";
import { defineImageEncoder } from "../registry/define.js";
import type { ForwardContext } from "../nn/context.js";
import { readPretrained } from "./pretrained.js";
import { loadTorchWeights } from "./torch-weights.js";
import { projectedEncoder, type Backbone } from "./projection.js";

/**
 * Blocks per stage and block type, as timm's `model_args`, and torchvision's ImageNet weights
 * file for each (IMAGENET1K_V1, the classic weights the composed-retrieval peers start from).
 */
export const RESNET_DEPTHS = {
  resnet18: { block: "basic", layers: [2, 2, 2, 2], imagenet: "resnet18-f37072fd.pth" },
  resnet34: { block: "basic", layers: [3, 4, 6, 3], imagenet: "resnet34-b627a593.pth" },
  resnet50: { block: "bottleneck", layers: [3, 4, 6, 3], imagenet: "resnet50-0676ba61.pth" },
  resnet101: { block: "bottleneck", layers: [3, 4, 23, 3], imagenet: "resnet101-63fe2227.pth" },
} as const;
export type ResnetName = keyof typeof RESNET_DEPTHS;

/** Stages in freezing order: `freeze: X` freezes X and everything before it. */
const FREEZE_ORDER = ["none", "stem", "layer1", "layer2", "layer3", "all"] as const;

export const resnetParams = z.object({
  dim: z.number().int().positive().default(1024).describe("Fusion width d: output channels of the 1×1 projection."),
  weights: z
    .string()
    .nullable()
    .optional()
    .describe(
      "Local ImageNet weights file (torchvision/timm .pth as torch.save wrote it, or safetensors), relative to the working directory; null or omitted = random init (from scratch).",
    ),
  naming: z
    .enum(["torchvision", "timm"])
    .default("torchvision")
    .describe("Parameter naming of the weights file (see docs/weights.md)."),
  freeze: z
    .enum(FREEZE_ORDER)
    .default("none")
    .describe("Freeze the backbone up to and including this stage: weights fixed, batch norm in eval mode."),
});

type Apply = (x: tf.Tensor4D, fc: ForwardContext) => tf.Tensor4D;
interface ConvBn {
  conv: Conv2d;
  bn: BatchNorm;
}

/** conv{k} + bn{k} pair with torchvision names, e.g. `layer1.0.conv2` / `layer1.0.bn2`. */
function convBn(
  scope: ParamScope,
  convName: string,
  bnName: string,
  k: number,
  inC: number,
  outC: number,
  stride: number,
  frozen: boolean,
): ConvBn {
  const conv = conv2d(scope.child(convName), {
    kernel: k,
    inChannels: inC,
    outChannels: outC,
    stride,
    pad: (k - 1) / 2,
    trainable: !frozen,
  });
  return { conv, bn: batchNorm(scope.child(bnName), outC, !frozen) };
}

/** One residual block (basic or bottleneck, stride on the 3×3 conv as torchvision v1.5). */
function block(
  scope: ParamScope,
  kind: "basic" | "bottleneck",
  inC: number,
  planes: number,
  stride: number,
  frozen: boolean,
): { apply: Apply; outC: number } {
  const expansion = kind === "basic" ? 1 : 4;
  const outC = planes * expansion;
  const convs =
    kind === "basic"
      ? [convBn(scope, "conv1", "bn1", 3, inC, planes, stride, frozen), convBn(scope, "conv2", "bn2", 3, planes, planes, 1, frozen)]
      : [
          convBn(scope, "conv1", "bn1", 1, inC, planes, 1, frozen),
          convBn(scope, "conv2", "bn2", 3, planes, planes, stride, frozen),
          convBn(scope, "conv3", "bn3", 1, planes, outC, 1, frozen),
        ];
  const down =
    stride !== 1 || inC !== outC ? convBn(scope.child("downsample"), "0", "1", 1, inC, outC, stride, frozen) : null;
  const train = (fc: ForwardContext) => fc.training && !frozen;
  return {
    outC,
    apply: (x, fc) =>
      tf.tidy(() => {
        let y = x;
        convs.forEach(({ conv, bn }, i) => {
          y = bn.apply(conv.apply(y), train(fc));
          if (i < convs.length - 1) y = tf.relu(y);
        });
        const shortcut = down ? down.bn.apply(down.conv.apply(x), train(fc)) : x;
        return tf.relu(tf.add(y, shortcut)) as tf.Tensor4D;
      }),
  };
}

/** The backbone under `scope` (image.backbone): stem, layer1..layer4. */
export function resnetBackbone(scope: ParamScope, name: ResnetName, freeze: (typeof FREEZE_ORDER)[number]): Backbone {
  const { block: kind, layers } = RESNET_DEPTHS[name];
  const frozenUpTo = FREEZE_ORDER.indexOf(freeze); // 1 = stem, 2..5 = layer1..4 (all)
  const stemFrozen = frozenUpTo >= 1;
  const stem = convBn(scope, "conv1", "bn1", 7, 3, 64, 2, stemFrozen);
  let inC = 64;
  const stages = layers.map((count, s) => {
    const frozen = frozenUpTo >= s + 2;
    return Array.from({ length: count }, (_, i) => {
      const b = block(scope.child(`layer${s + 1}.${i}`), kind, inC, 64 * 2 ** s, i === 0 && s > 0 ? 2 : 1, frozen);
      inC = b.outC;
      return b;
    });
  });
  return {
    channels: inC,
    frozen: frozenUpTo === FREEZE_ORDER.length - 1,
    grid: (size) => {
      // stem conv /2 (pad 3, k 7), maxpool /2 (pad 1, k 3), then three stride-2 stages (k 3, pad 1)
      let s = Math.floor((size + 6 - 7) / 2) + 1;
      for (let i = 0; i < 4; i++) s = Math.floor((s - 1) / 2) + 1;
      return s;
    },
    apply: (images, fc) =>
      tf.tidy(() => {
        let x = tf.relu(stem.bn.apply(stem.conv.apply(images), fc.training && !stemFrozen));
        x = tf.maxPool(x, 3, 2, 1);
        for (const stage of stages) for (const b of stage) x = b.apply(x, fc);
        return x;
      }),
  };
}

/** The commands that fetch torchvision's ImageNet weights for `name` to `path` (run where the internet is). */
export function imagenetSteps(name: ResnetName, path: string): string {
  const file = RESNET_DEPTHS[name].imagenet;
  return (
    `download torchvision's ImageNet ${name} weights (IMAGENET1K_V1) on a machine with internet access: ` +
    `curl -L --create-dirs -o ${path} https://download.pytorch.org/models/${file} ` +
    `(or python3 -c "import torchvision; torchvision.models.${name}(weights='IMAGENET1K_V1')" and copy ~/.cache/torch/hub/checkpoints/${file}); ` +
    `the file is read as it is (docs/weights.md)`
  );
}

const declare = (name: ResnetName) =>
  defineImageEncoder({
    name,
    doc: `${name} backbone (torchvision layout, NHWC, batch norm), last feature map projected to d by a 1×1 conv.`,
    params: resnetParams,
    pretrainedFiles: (p) => (p.weights ? [{ param: "weights", path: p.weights, obtain: imagenetSteps(name, p.weights) }] : []),
    build: (p, { scope, filesDir, pretrained = true }) => {
      const backboneScope = scope.child("backbone");
      const backbone = resnetBackbone(backboneScope, name, p.freeze);
      const source =
        p.weights && pretrained
          ? readPretrained("weights", resolve(filesDir, p.weights), (file) => loadTorchWeights(backboneScope, file, p.naming))
          : undefined;
      return { ...projectedEncoder(scope, p.dim, backbone.channels, backbone), pretrained: source };
    },
  });

export const resnet18 = declare("resnet18");
export const resnet34 = declare("resnet34");
export const resnet50 = declare("resnet50");
export const resnet101 = declare("resnet101");
