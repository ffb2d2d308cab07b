// CLIP's text tower (Radford et al. 2021): BPE tokens (src/encoders/clip-bpe.ts, its own tokenizer)
// → token + positional embeddings → transformer with a causal mask → ln_final → ·text_projection.
// Word features W are every token's projection (0 at padding); the sentence s is the one at
// <|endoftext|>, the last real token, as CLIP pools. Both → d by a linear layer when d ≠ e.
// Weights in OpenAI's names under text.backbone. (src/encoders/clip-weights.ts).
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { ClipBpe, MAX_MERGES, MergesFileError, readMerges } from "./clip-bpe.js";
import { causalMask, clipTransformer } from "../nn/clip-transformer.js";
import { layerNorm } from "../nn/layer-norm.js";
import { linear } from "../nn/linear.js";
import { normal } from "../nn/scope.js";
import { defineTextEncoder } from "../registry/define.js";
import type { TextEncoder } from "../registry/kinds.js";
import { loadClipWeights } from "./clip-weights.js";
import { PretrainedFileError, readPretrained } from "./pretrained.js";

const size = z.number().int().positive();
/** CLIP's merges file as OpenAI and open_clip ship it. */
const BPE_URL = "https://github.com/openai/CLIP/raw/main/clip/bpe_simple_vocab_16e6.txt.gz";
/** Ids of a tokenizer without merges: 512 byte symbols and the two markers. */
const BYTES_ONLY = 514;

export const clipTextParams = z.object({
  dim: size.default(512).describe("Fusion width d; word features and the sentence are projected from embed_dim to d when they differ."),
  weights: z
    .string()
    .nullable()
    .optional()
    .describe("Local CLIP weights: a state dict in OpenAI's / open_clip's names (token_embedding.weight, transformer.*, ln_final.*, text_projection), safetensors or torch.save; null or omitted = random init."),
  bpe: z
    .string()
    .nullable()
    .default("weights/bpe_simple_vocab_16e6.txt.gz")
    .describe(`CLIP's BPE merges file (bpe_simple_vocab_16e6.txt.gz, gzip or plain), relative to the working directory; null = bytes only, no merges (${BYTES_ONLY} ids: for encoders trained from scratch).`),
  vocab_size: size.default(512 + MAX_MERGES + 2).describe("Rows of the token embedding: 512 byte symbols + the merges used + 2 markers (49408 for OpenAI's file; 514 with bpe: null)."),
  context_length: size.default(77).describe("Positions of the positional embedding; longer texts are cut to it (with data.max_words), <|endoftext|> kept last."),
  width: size.default(512).describe("Transformer width."),
  layers: size.default(12).describe("Transformer blocks."),
  heads: size.default(8).describe("Attention heads; must divide width."),
  embed_dim: size.default(512).describe("CLIP's joint embedding width (columns of text_projection)."),
  freeze: z.boolean().default(false).describe("Keep the whole text tower fixed (the projection to d still trains)."),
  lr_mult: z.number().min(0).default(1).describe("Learning-rate multiplier of the text tower (text.backbone.*); CLIP fine-tuning often uses 0.1 or less."),
});
type ClipTextParams = z.output<typeof clipTextParams>;

/** CLIP's tokenizer for these params, truncating to min(max_words, context_length); its size must be vocab_size. */
function tokenizer(p: ClipTextParams, ctx: { filesDir: string; maxTokens: number }): ClipBpe {
  const maxTokens = Math.min(ctx.maxTokens, p.context_length);
  let merges: string[] = [];
  if (p.bpe) {
    const file = resolve(ctx.filesDir, p.bpe);
    merges = readPretrained("bpe", file, (f) => {
      try {
        return readMerges(f);
      } catch (err) {
        throw err instanceof MergesFileError ? new PretrainedFileError("bpe", err.message) : err;
      }
    });
  }
  const bpe = new ClipBpe(merges, maxTokens);
  if (bpe.size !== p.vocab_size) {
    const what = p.bpe ? `${p.bpe} gives ${bpe.size} token ids (512 bytes + ${merges.length} merges + 2 markers)` : `bpe: null gives ${bpe.size} token ids (bytes only)`;
    throw new PretrainedFileError("bpe", `${what}, but vocab_size is ${p.vocab_size}; set vocab_size: ${bpe.size}, or give the merges file the weights were trained with`);
  }
  return bpe;
}

export const clipText = defineTextEncoder({
  name: "clip_text",
  doc: "CLIP's text transformer (causal mask, BPE tokens, its own tokenizer): word features from every token, the sentence from <|endoftext|> (OpenAI's weight names).",
  params: clipTextParams,
  pretrainedFiles: (p) => [
    ...(p.weights ? [{ param: "weights", path: p.weights, obtain: "download CLIP's weights as a state dict (the same file as the image tower's: docs/weights.md)" }] : []),
    ...(p.bpe
      ? [{
          param: "bpe",
          path: p.bpe,
          obtain: `download CLIP's BPE merges on a machine with internet access: curl -L --create-dirs -o ${p.bpe} ${BPE_URL}`,
          instead: `to tokenize into bytes only (for a text tower trained from scratch, with vocab_size: ${BYTES_ONLY})`,
        }]
      : []),
  ],
  tokenizer,
  build: (p, { dim, scope, filesDir, pretrained = true }): TextEncoder => {
    const trainable = !p.freeze;
    const backbone = scope.child("backbone");
    const tokenEmbedding = backbone.child("token_embedding").param("weight", [p.vocab_size, p.width], normal(0.02), trainable);
    const positions = backbone.param("positional_embedding", [p.context_length, p.width], normal(0.01), trainable);
    const transformer = clipTransformer(backbone, p, trainable);
    const lnFinal = layerNorm(backbone.child("ln_final"), p.width, 1e-5, trainable);
    const projection = backbone.param("text_projection", [p.width, p.embed_dim], normal(p.width ** -0.5), trainable);
    const toDim = dim !== p.embed_dim ? linear(scope.child("proj"), p.embed_dim, dim) : null;
    const source = p.weights && pretrained ? readPretrained("weights", resolve(filesDir, p.weights), (file) => loadClipWeights(backbone, file, "text")) : undefined;
    return {
      pretrained: source,
      lrMults: p.lr_mult !== 1 ? new Map([[`${backbone.path}.`, p.lr_mult]]) : undefined,
      encode: (allTokens, allMask) =>
        tf.tidy(() => {
          const [b, t] = allTokens.shape;
          // padding beyond the context (a text-length bucket) holds no token: cut it, pad W back
          const l = Math.min(t, p.context_length);
          const tokens = l < t ? allTokens.slice([0, 0], [b, l]) : allTokens;
          const mask = l < t ? allMask.slice([0, 0], [b, l]) : allMask;
          const x = tf.add(tf.gather(tokenEmbedding, tokens), positions.slice([0, 0], [l, p.width])) as tf.Tensor3D; // (B, L, w)
          const h = transformer.apply(x, causalMask(l)); // a token sees itself and earlier ones: padding after <|endoftext|> changes nothing
          let e = tf.matMul(lnFinal.apply(h).reshape([b * l, p.width]), projection).reshape([b, l, p.embed_dim]) as tf.Tensor3D;
          if (toDim) e = toDim.apply(e);
          // <|endoftext|> is the last real token: weight 1 where the mask steps from 1 to 0
          const next = l > 1 ? tf.concat([mask.slice([0, 1], [b, l - 1]), tf.zeros([b, 1])], 1) : tf.zerosLike(mask);
          const atEnd = tf.sub(mask, next).expandDims(1); // (B, 1, L)
          const sentence = tf.matMul(atEnd, e).reshape([b, e.shape[2]]) as tf.Tensor2D;
          let words = tf.mul(e, mask.expandDims(2)) as tf.Tensor3D;
          if (l < t) words = tf.pad(words, [[0, 0], [0, t - l], [0, 0]]) as tf.Tensor3D;
          return { words, sentence };
        }),
    };
  },
});
