// CLIP's modified ResNets (Radford et al. 2021, section 2.4): a three-conv stem with an average pool,
// bottlenecks that downsample by average pooling before the stride-1 convolutions (anti-aliased),
// and attention pooling instead of global average pooling: the mean of the last map's positions
// queries all of them (plus a positional embedding) in one multi-head attention, then c_proj. The
// pooled output is CLIP's image embedding (the pooled embedding and the target t); each position
// through the same value and output projections, c_proj(v_proj(x_n + P_n)), is a region token (B, N, e).
// Both → d by a linear layer when d ≠ e. Weights in OpenAI's names under image.backbone. (clip-weights.ts).
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import type { ForwardContext } from "../nn/context.js";
import { batchNorm, conv2d, type BatchNorm, type Conv2d } from "../nn/conv.js";
import { linear } from "../nn/linear.js";
import { normal, type ParamScope } from "../nn/scope.js";
import { defineImageEncoder } from "../registry/define.js";
import type { ImageEncoder } from "../registry/kinds.js";
import { loadClipWeights } from "./clip-weights.js";
import { readPretrained } from "./pretrained.js";

/** OpenAI's modified ResNets: blocks per stage, stem width, attention-pool heads, input side, embedding width. */
export const CLIP_RESNETS = {
  clip_rn50: { title: "RN50", layers: [3, 4, 6, 3], width: 64, heads: 32, image_resolution: 224, embed_dim: 1024 },
  clip_rn101: { title: "RN101", layers: [3, 4, 23, 3], width: 64, heads: 32, image_resolution: 224, embed_dim: 512 },
  clip_rn50x4: { title: "RN50x4", layers: [4, 6, 10, 6], width: 80, heads: 40, image_resolution: 288, embed_dim: 640 },
} as const;
export type ClipResnetName = keyof typeof CLIP_RESNETS;

const size = z.number().int().positive();

function clipResnetParams(name: ClipResnetName) {
  const v = CLIP_RESNETS[name];
  return z.object({
    dim: size.default(v.embed_dim).describe(`Fusion width d; the region tokens and the pooled embedding are projected from embed_dim to d when they differ (default: CLIP's embedding width, ${v.embed_dim}).`),
    weights: z
      .string()
      .nullable()
      .optional()
      .describe("Local CLIP weights: a state dict in OpenAI's / open_clip's names (visual.*), safetensors or torch.save (.pt/.bin), relative to the working directory; null or omitted = random init."),
    freeze: z.boolean().default(false).describe("Keep the whole image tower fixed, batch norm from its running statistics (the projection to d still trains)."),
    lr_mult: z.number().min(0).default(1).describe("Learning-rate multiplier of the image tower (image.backbone.*; times the optimizer's backbone_lr_mult)."),
    layers: z.array(size).length(4).default([...v.layers]).describe("Bottleneck blocks in each of the four stages."),
    width: size.default(v.width).describe("Stem width; stage s has width·2^s planes and the last map width·32 channels."),
    heads: size.default(v.heads).describe("Heads of the attention pooling; must divide width·32."),
    image_resolution: size.default(v.image_resolution).describe("Input side in pixels the pooling's positional embedding is for (side/32 positions a row); data.image_size must equal it."),
    embed_dim: size.default(v.embed_dim).describe("CLIP's joint embedding width (c_proj's output)."),
  });
}

type Apply = (x: tf.Tensor4D, fc: ForwardContext) => tf.Tensor4D;

/** conv (no bias) + batch norm, OpenAI's names `conv{k}` / `bn{k}`; `train(fc)` says when batch norm uses batch statistics. */
function convBn(scope: ParamScope, conv: string, bn: string, k: number, inC: number, outC: number, stride: number, trainable: boolean) {
  const c: Conv2d = conv2d(scope.child(conv), { kernel: k, inChannels: inC, outChannels: outC, stride, pad: (k - 1) / 2, trainable });
  const b: BatchNorm = batchNorm(scope.child(bn), outC, trainable);
  return (x: tf.Tensor4D, train: boolean) => b.apply(c.apply(x), train);
}

const avgPool = (x: tf.Tensor4D, k: number) => (k > 1 ? (tf.avgPool(x, k, k, 0) as tf.Tensor4D) : x);

/** One anti-aliased bottleneck: conv1 → conv2 → avg pool(stride) → conv3, shortcut avg pool(stride) → conv → bn. */
function bottleneck(scope: ParamScope, inC: number, planes: number, stride: number, trainable: boolean): { apply: Apply; outC: number } {
  const outC = planes * 4;
  const c1 = convBn(scope, "conv1", "bn1", 1, inC, planes, 1, trainable);
  const c2 = convBn(scope, "conv2", "bn2", 3, planes, planes, 1, trainable);
  const c3 = convBn(scope, "conv3", "bn3", 1, planes, outC, 1, trainable);
  const down = stride > 1 || inC !== outC ? convBn(scope.child("downsample"), "0", "1", 1, inC, outC, 1, trainable) : null;
  return {
    outC,
    apply: (x, fc) =>
      tf.tidy(() => {
        const train = fc.training && trainable;
        let y = tf.relu(c2(tf.relu(c1(x, train)), train)) as tf.Tensor4D;
        y = c3(avgPool(y, stride), train);
        const shortcut = down ? down(avgPool(x, stride), train) : x;
        return tf.relu(tf.add(y, shortcut)) as tf.Tensor4D;
      }),
  };
}

const declare = (name: ClipResnetName) =>
  defineImageEncoder({
    name,
    doc: `CLIP's modified ${CLIP_RESNETS[name].title}: anti-aliased ResNet with attention pooling; the pooled output is the pooled embedding and target, each position through the pooling's value and output projections a region token (OpenAI's weight names).`,
    params: clipResnetParams(name),
    pretrainedFiles: (p) =>
      p.weights
        ? [{ param: "weights", path: p.weights, obtain: `save OpenAI's CLIP ${CLIP_RESNETS[name].title} as a state dict in OpenAI's names: see docs/weights.md (open_clip's copy, or OpenAI's download converted)` }]
        : [],
    build: (p, { dim, scope, filesDir, pretrained = true }): ImageEncoder => {
      const trainable = !p.freeze;
      const backbone = scope.child("backbone");
      const w = p.width;
      const stem = [
        convBn(backbone, "conv1", "bn1", 3, 3, w / 2, 2, trainable),
        convBn(backbone, "conv2", "bn2", 3, w / 2, w / 2, 1, trainable),
        convBn(backbone, "conv3", "bn3", 3, w / 2, w, 1, trainable),
      ];
      let inC = w;
      const stages = p.layers.map((count, s) =>
        Array.from({ length: count }, (_, i) => {
          const block = bottleneck(backbone.child(`layer${s + 1}.${i}`), inC, w * 2 ** s, i === 0 && s > 0 ? 2 : 1, trainable);
          inC = block.outC;
          return block;
        }),
      );
      // attention pooling over the last map (side = image_resolution / 32)
      const side = Math.floor(p.image_resolution / 32);
      const pool = backbone.child("attnpool");
      const positions = pool.param("positional_embedding", [side * side + 1, inC], normal(inC ** -0.5), trainable);
      const [q, k, v] = ["q_proj", "k_proj", "v_proj"].map((n) => linear(pool.child(n), inC, inC, { init: normal(inC ** -0.5), trainable }));
      const c = linear(pool.child("c_proj"), inC, p.embed_dim, { init: normal(inC ** -0.5), trainable });
      const toDim = dim !== p.embed_dim ? linear(scope.child("proj"), p.embed_dim, dim) : null;
      const heads = p.heads;
      const dh = inC / heads;
      const source = p.weights && pretrained ? readPretrained("weights", resolve(filesDir, p.weights), (file) => loadClipWeights(backbone, file, "visual")) : undefined;

      const encodePooled = (images: tf.Tensor4D, fc: ForwardContext) =>
        tf.tidy(() => {
          const [b, h, width] = images.shape;
          if (h !== p.image_resolution || width !== p.image_resolution) {
            throw new Error(`${scope.path} (${name}): its attention pooling is for ${p.image_resolution}×${p.image_resolution} images, got ${h}×${width}; set data.image_size: ${p.image_resolution}`);
          }
          const train = fc.training && trainable;
          let x = images;
          for (const layer of stem) x = tf.relu(layer(x, train)) as tf.Tensor4D;
          x = avgPool(x, 2);
          for (const stage of stages) for (const block of stage) x = block.apply(x, fc);
          const n = side * side;
          const tokens = x.reshape([b, n, inC]);
          const z = tf.add(tf.concat([tokens.mean(1, true), tokens], 1), positions) as tf.Tensor3D; // (B, N+1, C): the mean first
          const split = (t: tf.Tensor, l: number) => t.reshape([b, l, heads, dh]).transpose([0, 2, 1, 3]); // (B, h, L, dh)
          const query = split(q.apply(z.slice([0, 0, 0], [b, 1, inC])), 1);
          const values = v.apply(z); // (B, N+1, C)
          const logits = tf.mul(tf.matMul(query, split(k.apply(z), n + 1), false, true), 1 / Math.sqrt(dh)); // (B, h, 1, N+1)
          const attended = tf.matMul(tf.softmax(logits, -1), split(values, n + 1)).transpose([0, 2, 1, 3]).reshape([b, inC]) as tf.Tensor2D;
          let pooled = c.apply(attended); // (B, e): CLIP's image embedding
          let regions = c.apply(values.slice([0, 1, 0], [b, n, inC]) as tf.Tensor3D); // (B, N, e)
          if (toDim) [pooled, regions] = [toDim.apply(pooled), toDim.apply(regions)];
          return { tokens: regions, pooled };
        });
      return {
        encodePooled,
        encode: (images, fc) => tf.tidy(() => encodePooled(images, fc).tokens),
        grid: (px) => Math.floor(px / 32),
        lrMults: p.lr_mult !== 1 ? new Map([[`${backbone.path}.`, p.lr_mult]]) : undefined,
        pretrained: source,
      };
    },
  });

export const clipRn50 = declare("clip_rn50");
export const clipRn101 = declare("clip_rn101");
export const clipRn50x4 = declare("clip_rn50x4");
