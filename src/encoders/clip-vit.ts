// CLIP's image tower, the Vision Transformer (Radford et al. 2021), as one builder plus a table of
// OpenAI's variants: patches (a stride-p conv, no bias) → [class token; patches] + positions →
// ln_pre → transformer → ln_post → ·proj. Every token goes through ln_post and proj: the class
// token is CLIP's image embedding (the pooled embedding, and the target t), the patch tokens are
// the region tokens X (B, N, e); both → d by a linear layer when d ≠ e. Weights in OpenAI's names
// under image.backbone. (src/encoders/clip-weights.ts).
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { clipTransformer } from "../nn/clip-transformer.js";
import { conv2d } from "../nn/conv.js";
import { layerNorm } from "../nn/layer-norm.js";
import { linear } from "../nn/linear.js";
import { normal } from "../nn/scope.js";
import { defineImageEncoder } from "../registry/define.js";
import type { ImageEncoder } from "../registry/kinds.js";
import { loadClipWeights } from "./clip-weights.js";
import { readPretrained } from "./pretrained.js";

/** OpenAI's image towers, and where open_clip keeps a state dict of each in OpenAI's names. */
export const CLIP_VITS = {
  clip_vit_b32: { title: "ViT-B/32", patch: 32, width: 768, layers: 12, heads: 12, image_resolution: 224, embed_dim: 512, hub: "timm/vit_base_patch32_clip_224.openai" },
  clip_vit_b16: { title: "ViT-B/16", patch: 16, width: 768, layers: 12, heads: 12, image_resolution: 224, embed_dim: 512, hub: "timm/vit_base_patch16_clip_224.openai" },
  clip_vit_l14: { title: "ViT-L/14", patch: 14, width: 1024, layers: 24, heads: 16, image_resolution: 224, embed_dim: 768, hub: "timm/vit_large_patch14_clip_224.openai" },
} as const;
export type ClipVitName = keyof typeof CLIP_VITS;

/** CLIP's normalisation of pixels in [0, 1] (data.mean / data.std of the CLIP recipes). */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

const size = z.number().int().positive();

export function clipVitParams(name: ClipVitName) {
  const v = CLIP_VITS[name];
  return z.object({
    dim: size.default(v.embed_dim).describe(`Fusion width d; the tokens and the pooled embedding are projected from embed_dim to d when they differ (default: CLIP's embedding width, ${v.embed_dim}).`),
    weights: z
      .string()
      .nullable()
      .optional()
      .describe("Local CLIP weights: a state dict in OpenAI's / open_clip's names (visual.*), safetensors or torch.save (.pt/.bin), relative to the working directory; null or omitted = random init."),
    freeze: z.boolean().default(false).describe("Keep the whole image tower fixed (the projection to d still trains)."),
    lr_mult: z.number().min(0).default(1).describe("Learning-rate multiplier of the image tower (image.backbone.*; times the optimizer's backbone_lr_mult); CLIP fine-tuning often uses 0.1 or less."),
    patch: size.default(v.patch).describe("Patch side in pixels."),
    width: size.default(v.width).describe("Transformer width."),
    layers: size.default(v.layers).describe("Transformer blocks."),
    heads: size.default(v.heads).describe("Attention heads; must divide width."),
    image_resolution: size.default(v.image_resolution).describe("Input side in pixels the positional embedding is for; data.image_size must equal it."),
    embed_dim: size.default(v.embed_dim).describe("CLIP's joint embedding width (columns of proj)."),
  });
}

/** The commands that fetch open_clip's copy of OpenAI's weights for `name` to `path`. */
export function clipWeightsSteps(name: ClipVitName, path: string): string {
  return (
    `download OpenAI's CLIP ${name} weights as a state dict on a machine with internet access: ` +
    `curl -L --create-dirs -o ${path} https://huggingface.co/${CLIP_VITS[name].hub}/resolve/main/open_clip_model.safetensors ` +
    `(open_clip's copy, OpenAI's names; docs/weights.md also shows how to convert OpenAI's own TorchScript download)`
  );
}

const declare = (name: ClipVitName) =>
  defineImageEncoder({
    name,
    doc: `CLIP's ${CLIP_VITS[name].title} image tower: patch tokens → region tokens, the class token → the pooled embedding and target (OpenAI's weight names).`,
    params: clipVitParams(name),
    pretrainedFiles: (p) => (p.weights ? [{ param: "weights", path: p.weights, obtain: clipWeightsSteps(name, p.weights) }] : []),
    build: (p, { dim, scope, filesDir, pretrained = true }): ImageEncoder => {
      const trainable = !p.freeze;
      const backbone = scope.child("backbone");
      const grid = Math.floor(p.image_resolution / p.patch);
      const scale = p.width ** -0.5;
      const conv1 = conv2d(backbone.child("conv1"), { kernel: p.patch, inChannels: 3, outChannels: p.width, stride: p.patch, trainable });
      const classEmbedding = backbone.param("class_embedding", [p.width], normal(scale), trainable);
      const positions = backbone.param("positional_embedding", [grid * grid + 1, p.width], normal(scale), trainable);
      const lnPre = layerNorm(backbone.child("ln_pre"), p.width, 1e-5, trainable);
      const transformer = clipTransformer(backbone, p, trainable);
      const lnPost = layerNorm(backbone.child("ln_post"), p.width, 1e-5, trainable);
      const proj = backbone.param("proj", [p.width, p.embed_dim], normal(scale), trainable);
      const toDim = dim !== p.embed_dim ? linear(scope.child("proj"), p.embed_dim, dim) : null;
      const source = p.weights && pretrained ? readPretrained("weights", resolve(filesDir, p.weights), (file) => loadClipWeights(backbone, file, "visual")) : undefined;

      const encodePooled = (images: tf.Tensor4D) =>
        tf.tidy(() => {
          const [b, h, w] = images.shape;
          if (h !== p.image_resolution || w !== p.image_resolution) {
            throw new Error(`${scope.path} (${name}): its positional embedding is for ${p.image_resolution}×${p.image_resolution} images, got ${h}×${w}; set data.image_size: ${p.image_resolution}`);
          }
          const patches = conv1.apply(images).reshape([b, grid * grid, p.width]); // (B, N, w)
          const cls = tf.add(tf.zeros([b, 1, p.width]), classEmbedding); // (B, 1, w)
          let x = tf.add(tf.concat([cls, patches], 1), positions) as tf.Tensor3D; // (B, N+1, w)
          x = transformer.apply(lnPre.apply(x), null);
          let y = tf.matMul(lnPost.apply(x).reshape([b * (grid * grid + 1), p.width]), proj).reshape([b, grid * grid + 1, p.embed_dim]) as tf.Tensor3D;
          if (toDim) y = toDim.apply(y);
          const d = y.shape[2];
          return {
            pooled: y.slice([0, 0, 0], [b, 1, d]).reshape([b, d]) as tf.Tensor2D, // the class token: CLIP's image embedding
            tokens: y.slice([0, 1, 0], [b, grid * grid, d]) as tf.Tensor3D, // the patch tokens
          };
        });
      return {
        encodePooled: (images) => encodePooled(images),
        encode: (images) =>
          tf.tidy(() => {
            const { tokens } = encodePooled(images);
            return tokens;
          }),
        grid: (side) => Math.floor(side / p.patch),
        lrMults: p.lr_mult !== 1 ? new Map([[`${backbone.path}.`, p.lr_mult]]) : undefined,
        pretrained: source,
      };
    },
  });

export const clipVitB32 = declare("clip_vit_b32");
export const clipVitB16 = declare("clip_vit_b16");
export const clipVitL14 = declare("clip_vit_l14");
