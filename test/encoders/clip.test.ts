// CLIP's encoders (src/encoders/clip-vit.ts, clip-text.ts): a seeded random CLIP written in OpenAI's
// names by the PyTorch reference (bench/reference/clip_check.py, as safetensors and as torch.save's
// zip) loads through `weights` and gives the reference's image and text embeddings, patch tokens and
// word features to 1e-4; the causal mask and <|endoftext|> pooling; freeze and lr_mult; the tokenizer
// a session takes from the text encoder; missing files refused with exit 2 before anything is written.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/builtins.js";
import { ClipBpe, readMerges } from "../../src/encoders/clip-bpe.js";
import { PretrainedFileError } from "../../src/encoders/pretrained.js";
import { readSafetensors, writeSafetensors } from "../../src/io/safetensors.js";
import { inference } from "../../src/nn/context.js";
import { ParamStore } from "../../src/nn/scope.js";
import { loadRecipe } from "../../src/recipe/index.js";
import type { ImageEncoder, TextEncoder } from "../../src/registry/kinds.js";
import { openSession } from "../../src/run/session.js";
import { python, ROOT } from "../reference/cases.js";
import { sdfn } from "../support/cli.js";
import { missing } from "../support/requires.js";

tf.env().set("IS_TEST", true);

const work = mkdtempSync(join(tmpdir(), "sdfn-clip-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A CLIP-shaped pair at test size: ViT width 64, 2 layers, patch 8 at 32 px; text width 32, context 16.
const VISUAL = { image_resolution: 32, patch: 8, width: 64, layers: 2, heads: 4, embed_dim: 32 };
const TEXT = { vocab_size: 518, context_length: 16, width: 32, layers: 2, heads: 4, embed_dim: 32 };
const MERGES = ["l o</w>", "h e", "he l", "hel lo</w>"]; // 512 + 4 + 2 = 518 ids
const CAPTIONS = ["Hello hello", "it's a red dress with long sleeves and a belt", "hi!"];
const registry = createRegistry();

/** Tokens (B, T) right-padded with 0 and their mask, as the loader makes them. */
function tokenize(texts: string[], bpe: ClipBpe, length?: number): { tokens: tf.Tensor2D; mask: tf.Tensor2D } {
  const ids = texts.map((t) => bpe.encode(t));
  const t = length ?? Math.max(...ids.map((i) => i.length));
  const tokens = new Int32Array(texts.length * t);
  const mask = new Float32Array(texts.length * t);
  ids.forEach((row, b) => {
    tokens.set(row, b * t);
    mask.fill(1, b * t, b * t + row.length);
  });
  return { tokens: tf.tensor2d(tokens, [texts.length, t], "int32"), mask: tf.tensor2d(mask, [texts.length, t]) };
}

function encoders(extra: { image?: object; text?: object; dim?: number } = {}) {
  const store = new ParamStore(1);
  const dim = extra.dim ?? 32;
  const ctx = { dim, filesDir: work };
  const image = registry.build("image_encoder", { type: "clip_vit_b32", dim, ...VISUAL, ...extra.image }, { ...ctx, scope: store.root().child("image") }, "encoders.image") as ImageEncoder;
  const vocabulary = { size: TEXT.vocab_size, words: [] };
  const text = registry.build("text_encoder", { type: "clip_text", dim, ...TEXT, ...extra.text }, { ...ctx, vocabulary, scope: store.root().child("text") }, "encoders.text") as TextEncoder;
  return { store, image, text };
}

/** max |a − b| relative to max |b|. */
function relativeError(a: tf.Tensor, b: Float32Array): number {
  const x = a.dataSync();
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(x[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return worst / scale;
}

describe.skipIf(missing("pythonTorch"))("CLIP encoders against the PyTorch reference (OpenAI's names)", () => {
  const bpe = new ClipBpe(MERGES, TEXT.context_length);
  let reference: Record<string, Float32Array>;
  let images: tf.Tensor4D;
  let text: { tokens: tf.Tensor2D; mask: tf.Tensor2D };

  beforeAll(() => {
    images = tf.randomNormal([3, 32, 32, 3], 0, 1, "float32", 7) as tf.Tensor4D;
    text = tokenize(CAPTIONS, bpe);
    writeSafetensors(join(work, "inputs.safetensors"), {
      images: { shape: images.shape, data: images.dataSync() as Float32Array },
      tokens: { shape: text.tokens.shape, data: text.tokens.dataSync() as Int32Array },
    });
    writeFileSync(join(work, "spec.json"), JSON.stringify({ seed: 5, visual: VISUAL, text: TEXT }));
    const r = python([join(ROOT, "bench/reference/clip_check.py"), "--spec", join(work, "spec.json"), "--dir", work]);
    if (r.status !== 0) throw new Error(r.output);
    reference = Object.fromEntries(Object.entries(readSafetensors(join(work, "outputs.safetensors")).tensors).map(([k, t]) => [k, t.data as Float32Array]));
  });

  for (const file of ["clip.safetensors", "clip.pt"]) {
    it(`gives the reference's embeddings, patch tokens and word features to 1e-4 from ${file}`, () => {
      const { store, image, text: encoder } = encoders({ image: { weights: file }, text: { weights: file } });
      expect(image.pretrained?.loaded).toMatch(/^image\.backbone: 32 tensors \(/);
      expect(encoder.pretrained?.loaded).toMatch(/^text\.backbone: 29 tensors \(/);
      tf.tidy(() => {
        const { tokens, pooled } = image.encodePooled!(images, inference);
        expect(tokens.shape).toEqual([3, 16, 32]); // (32 / 8)² patches
        expect(relativeError(pooled, reference.image_embedding!)).toBeLessThan(1e-4);
        expect(relativeError(tokens, reference.image_tokens!)).toBeLessThan(1e-4);
        const { words, sentence } = encoder.encode(text.tokens, text.mask, inference);
        expect(relativeError(sentence, reference.text_embedding!)).toBeLessThan(1e-4);
        // word features are 0 at padding, the reference's everywhere else
        const masked = Float32Array.from(reference.text_features!, (v, i) => v * text.mask.dataSync()[Math.floor(i / 32)]!);
        expect(relativeError(words, masked)).toBeLessThan(1e-4);
      });
      store.dispose();
    });
  }

  it("projects tokens and the pooled embedding to d when d differs from CLIP's width", () => {
    const { store, image, text: encoder } = encoders({ dim: 24, image: { weights: "clip.safetensors" }, text: { weights: "clip.safetensors" } });
    expect(store.variables.get("image.proj.weight")!.shape).toEqual([32, 24]);
    tf.tidy(() => {
      const { tokens, pooled } = image.encodePooled!(images, inference);
      expect([tokens.shape, pooled.shape]).toEqual([[3, 16, 24], [3, 24]]);
      // the projection is applied to CLIP's embedding: pooled = e · W + b
      const e = tf.tensor2d(reference.image_embedding!, [3, 32]);
      const projected = tf.add(tf.matMul(e, store.variables.get("image.proj.weight")!), store.variables.get("image.proj.bias")!);
      expect(relativeError(pooled, projected.dataSync() as Float32Array)).toBeLessThan(1e-4);
      expect(encoder.encode(text.tokens, text.mask, inference).words.shape).toEqual([3, text.tokens.shape[1], 24]);
    });
    store.dispose();
  });

  it("names what does not fit when the file is another architecture's", () => {
    const build = () => encoders({ image: { weights: "clip.safetensors", layers: 3 } });
    expect(build).toThrow(PretrainedFileError);
    expect(build).toThrow(/does not fit CLIP's image tower image\.backbone: 12 missing \(e\.g\. visual\.transformer\.resblocks\.2\./);
    expect(() => encoders({ text: { weights: "clip.safetensors", width: 48, heads: 4 } })).toThrow(/text\.backbone: .*of another shape or type \(token_embedding\.weight: file \[518,32\], expected \[518,48\]/);
  });
});

describe.skipIf(missing("pythonTorch"))("CLIP's modified ResNet against the PyTorch reference (OpenAI's names)", () => {
  // a CLIP-shaped RN at test size: one bottleneck a stage, stem width 16 (512-channel last map), 64 px → 2×2 positions
  const RESNET = { layers: [1, 1, 1, 1], width: 16, heads: 4, image_resolution: 64, embed_dim: 32 };
  const dir = join(work, "rn");

  it("gives the reference's attention-pooled embedding and region tokens to 1e-4, batch norm from the file's statistics", () => {
    mkdirSync(dir, { recursive: true });
    const images = tf.randomNormal([2, 64, 64, 3], 0, 1, "float32", 8) as tf.Tensor4D;
    const text = tokenize(CAPTIONS.slice(0, 2), new ClipBpe(MERGES, TEXT.context_length));
    writeSafetensors(join(dir, "inputs.safetensors"), {
      images: { shape: images.shape, data: images.dataSync() as Float32Array },
      tokens: { shape: text.tokens.shape, data: text.tokens.dataSync() as Int32Array },
    });
    writeFileSync(join(dir, "spec.json"), JSON.stringify({ seed: 6, visual: RESNET, text: TEXT }));
    const r = python([join(ROOT, "bench/reference/clip_check.py"), "--spec", join(dir, "spec.json"), "--dir", dir]);
    expect(r.status, r.output).toBe(0);
    const reference = readSafetensors(join(dir, "outputs.safetensors")).tensors;
    const store = new ParamStore(1);
    const image = registry.build("image_encoder", { type: "clip_rn50", dim: 32, ...RESNET, weights: join(dir, "clip.pt") }, { dim: 32, filesDir: work, scope: store.root().child("image") }, "encoders.image") as ImageEncoder;
    expect(image.pretrained?.loaded).toMatch(/^image\.backbone: \d+ tensors \(torch zip\)/);
    tf.tidy(() => {
      const { tokens, pooled } = image.encodePooled!(images, inference);
      expect(tokens.shape).toEqual([2, 4, 32]);
      expect(relativeError(pooled, reference.image_embedding!.data as Float32Array)).toBeLessThan(1e-4);
      expect(relativeError(tokens, reference.image_tokens!.data as Float32Array)).toBeLessThan(1e-4);
    });
    tf.dispose([images, text.tokens, text.mask]);
    store.dispose();
  });
});

describe("CLIP's text tower", () => {
  const bpe = new ClipBpe(MERGES, TEXT.context_length);

  it("is causal: a later token changes no earlier word feature, padding changes nothing, beyond the context is cut", () => {
    const { store, text: encoder } = encoders();
    tf.tidy(() => {
      const base = tokenize(["hello hi hello"], bpe);
      const t = base.tokens.shape[1];
      const changed = base.tokens.arraySync();
      changed[0]![t - 2] = 70; // the token before <|endoftext|>
      const a = encoder.encode(base.tokens, base.mask, inference);
      const b = encoder.encode(tf.tensor2d(changed, undefined, "int32"), base.mask, inference);
      const before = (w: tf.Tensor3D) => w.slice([0, 0, 0], [1, t - 2, 32]);
      expect(relativeError(before(b.words), before(a.words).dataSync() as Float32Array)).toBe(0);
      expect(relativeError(b.sentence, a.sentence.dataSync() as Float32Array)).toBeGreaterThan(1e-3);
      // padded to 20 positions (beyond the context of 16): the same sentence, 0 at every padded position
      const padded = tokenize(["hello hi hello"], bpe, 20);
      const c = encoder.encode(padded.tokens, padded.mask, inference);
      expect(c.words.shape).toEqual([1, 20, 32]);
      expect(relativeError(c.sentence, a.sentence.dataSync() as Float32Array)).toBeLessThan(1e-6);
      expect(tf.abs(c.words.slice([0, t, 0], [1, 20 - t, 32])).max().dataSync()[0]).toBe(0);
    });
    store.dispose();
  });
});

describe("CLIP encoders in a recipe", () => {
  const recipe = (extra: string) =>
    [
      "version: 1",
      "name: clip-tiny",
      "data: { dataset: shapes, train_pairs: 40, test_references: 4, test_edits: 4, test_queries: 8, image_size: 32 }",
      "encoders:",
      `  image: { type: clip_vit_b32, dim: 32, patch: 8, width: 64, layers: 2, heads: 4, image_resolution: 32, embed_dim: 32, lr_mult: 0.5${extra.includes("freeze") ? ", freeze: true" : ""} }`,
      `  text: { type: clip_text, dim: 32, width: 32, layers: 2, heads: 4, embed_dim: 32, context_length: 16, ${extra.includes("bytes") ? "bpe: null, vocab_size: 514" : "bpe: merges.txt, vocab_size: 518"}, lr_mult: 0.25 }`,
      "fusion: { layers: 1, modules: [{ type: Combiner, projection_mult: 1, hidden_mult: 1, dropout: 0 }], router: { type: static } }",
      "losses: [{ type: batch_classification }]",
      "training: { epochs: 1, batch_size: 4, optimizer: { type: adam, lr: 0.01 } }",
      "evaluation: { recall_at: [1, 5] }",
      "",
    ].join("\n");
  const dir = join(work, "recipes");

  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "merges.txt"), `#version: 0.2\n${MERGES.join("\n")}\n`);
  });

  it("tokenizes with the text encoder's BPE and trains each tower at its lr_mult (one Adam step moves a weight by lr × mult)", async () => {
    writeFileSync(join(dir, "tiny.yaml"), recipe(""));
    const session = await openSession(await loadRecipe(join(dir, "tiny.yaml")), { cwd: dir });
    try {
      const vocabulary = session.dataset.vocabulary as ClipBpe;
      expect(vocabulary).toBeInstanceOf(ClipBpe);
      expect(vocabulary.encode("make it red")[0]).toBe(516); // <|startoftext|>
      expect(session.network.lrMults).toEqual(new Map([["image.backbone.", 0.5], ["text.backbone.", 0.25]]));
      const names = ["image.backbone.proj", "text.backbone.text_projection", "fusion.layers.0.modules.0.output.weight"];
      const before = names.map((n) => session.network.store.variables.get(n)!.dataSync().slice());
      const grads = Object.fromEntries(names.map((n) => [n, tf.onesLike(session.network.store.variables.get(n)!)]));
      session.optimizer.apply(grads, 0.01);
      tf.dispose(Object.values(grads));
      // Adam's first step is lr · m̂/(√v̂ + ε) = lr · mult for a gradient of 1
      names.forEach((n, i) => {
        const step = before[i]![0]! - session.network.store.variables.get(n)!.dataSync()[0]!;
        expect(step).toBeCloseTo([0.005, 0.0025, 0.01][i]!, 6);
      });
    } finally {
      session.dispose();
    }
  });

  it("freeze: true keeps the image tower fixed; bpe: null tokenizes into bytes", async () => {
    writeFileSync(join(dir, "frozen.yaml"), recipe("freeze bytes"));
    const session = await openSession(await loadRecipe(join(dir, "frozen.yaml")), { cwd: dir });
    try {
      const vars = [...session.network.store.variables];
      expect(vars.filter(([n]) => n.startsWith("image.backbone.")).every(([, v]) => !v.trainable)).toBe(true);
      expect(vars.filter(([n]) => n.startsWith("text.backbone.")).every(([, v]) => v.trainable)).toBe(true);
      expect(session.dataset.vocabulary.size).toBe(514);
      expect(session.dataset.vocabulary.encode("ab")).toEqual([512, "a".charCodeAt(0) - 0x21, 256 + "b".charCodeAt(0) - 0x21, 513]);
    } finally {
      session.dispose();
    }
  });

  it("refuses missing weights and merges files with exit 2, naming each key and how to get it, before writing anything", async () => {
    const text = recipe("").replace("lr_mult: 0.5", "lr_mult: 0.5, weights: weights/clip.safetensors").replace("bpe: merges.txt", "bpe: weights/bpe.txt.gz");
    writeFileSync(join(dir, "missing.yaml"), text);
    const out = join(work, "run-missing");
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = await sdfn("build", join(dir, "missing.yaml"), "--out", out, "--log", "plain");
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(/encoders\.image\.weights: no file at \S+weights\/clip\.safetensors .*huggingface\.co\/timm\/vit_base_patch32_clip_224\.openai/);
      expect(r.err).toMatch(/encoders\.text\.bpe: no file at \S+weights\/bpe\.txt\.gz .*bpe_simple_vocab_16e6\.txt\.gz.*--set encoders\.text\.bpe=null/);
      expect(existsSync(out)).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });

  it("a merges file that does not fit vocab_size is a problem at encoders.text.bpe", async () => {
    writeFileSync(join(dir, "mismatch.yaml"), recipe("").replace("vocab_size: 518", "vocab_size: 600"));
    const loaded = await loadRecipe(join(dir, "mismatch.yaml"));
    await expect(openSession(loaded, { cwd: dir })).rejects.toThrow(/^encoders\.text\.bpe: merges\.txt gives 518 token ids \(512 bytes \+ 4 merges \+ 2 markers\), but vocab_size is 600; set vocab_size: 518/);
  });

  it("data.image_size must be the ViT's image_resolution, and heads must divide the width (validation, at the key)", async () => {
    writeFileSync(join(dir, "bad.yaml"), recipe("").replace("image_size: 32", "image_size: 40").replace("width: 32, layers: 2, heads: 4", "width: 32, layers: 2, heads: 5"));
    const r = await sdfn("validate", join(dir, "bad.yaml"));
    expect(r.code).toBe(2);
    expect(r.out + r.err).toMatch(/bad\.yaml:3:\d+: error: data\.image_size: 40 px, but encoders\.image \(clip_vit_b32\) has positional embeddings for 32 px images/);
    expect(r.out + r.err).toMatch(/bad\.yaml:6:\d+: error: encoders\.text\.heads: 5 heads do not divide the width 32/);
  });
});
