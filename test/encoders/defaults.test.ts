// Every built-in encoder from its defaults (ResNet represented by resnet18: one builder
// serves the family): forward shapes, a gradient for every trainable variable, no leaks.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../src/builtins.js";
import { ParamStore } from "../../src/nn/scope.js";
import type { ImageEncoder, TextEncoder } from "../../src/registry/kinds.js";
import { randn, trainFc } from "../nn/helpers.js";

/** Runs one forward/backward; returns the trainable names whose gradient is missing or zero. */
function deadVariables(store: ParamStore, loss: () => tf.Scalar): string[] {
  const { value, grads } = tf.variableGrads(loss, store.trainable());
  const dead = [...store.variables]
    .filter(([, v]) => v.trainable)
    .filter(([, v]) => !grads[v.name] || tf.tidy(() => tf.max(tf.abs(grads[v.name]!)).dataSync()[0]) === 0)
    .map(([k]) => k);
  value.dispose();
  tf.dispose(grads);
  return dead;
}

// Every registered encoder (plugins and new built-ins included), from the registry. CLIP's ViTs are
// one builder too: clip_vit_b32 stands for them, and clip_rn50 for CLIP's ResNets. CLIP's towers run at a test size: their defaults are
// ViT-B/32's 88 M parameters at 224 px, and a 49408-row token embedding whose gradient (a segment
// sum per row on the cpu backend) alone takes minutes.
const registry = createRegistry();
const images = registry.list("image_encoder").filter((d) => !/^resnet(34|50|101)$|^clip_vit_(b16|l14)$|^clip_rn(101|50x4)$/.test(d.name));
const TEST_SIZE: Record<string, object> = {
  clip_vit_b32: { patch: 8, width: 32, layers: 2, heads: 2, image_resolution: 32, embed_dim: 16 },
  clip_rn50: { layers: [1, 1, 1, 1], width: 8, heads: 4, image_resolution: 32, embed_dim: 16 },
  clip_text: { vocab_size: 64, context_length: 8, width: 32, layers: 2, heads: 2, embed_dim: 16 },
};

describe.each(images.map((d) => [d.name, d] as const))("image encoder %s from its defaults", (_name, decl) => {
  it("gives (B, N, d) tokens, trains every variable, leaks nothing", () => {
    const params = decl.params.parse(TEST_SIZE[decl.name] ?? {});
    const store = new ParamStore(1);
    const encoder = decl.build(params, { dim: params.dim, scope: store.root().child("image"), filesDir: "." }) as ImageEncoder;
    // features: 2×2 maps of the default 2048 channels; images: 32 px
    const [size, channels] = decl.name === "features" ? [2, params.channels] : [32, 3];
    const x = randn([2, size, size, channels], 1) as tf.Tensor4D;
    const side = encoder.grid ? encoder.grid(size) : size; // features: the maps' own side
    const loss = () => {
      if (encoder.encodePooled) {
        // an encoder with its own pooled embedding (CLIP's: the target) trains through both outputs
        const { tokens, pooled } = encoder.encodePooled(x, trainFc());
        expect([tokens.shape, pooled.shape]).toEqual([[2, side * side, params.dim], [2, params.dim]]);
        return tf.add(tf.sum(tf.square(tokens)), tf.sum(tf.square(pooled))) as tf.Scalar;
      }
      const tokens = encoder.encode(x, trainFc());
      expect(tokens.shape).toEqual([2, side * side, params.dim]);
      return tf.sum(tf.square(tokens)) as tf.Scalar;
    };
    expect(deadVariables(store, loss)).toEqual([]);
    if (decl.name !== "resnet18") {
      // (a second ResNet pass would only repeat small_cnn's conv and batch-norm code, slowly)
      const before = tf.memory().numTensors;
      deadVariables(store, loss);
      expect(tf.memory().numTensors).toBe(before);
    }
    store.dispose();
  });
});

describe.each(registry.list("text_encoder").map((d) => [d.name, d] as const))("text encoder %s from its defaults", (_name, decl) => {
  it("gives (B, T, d) words and (B, d) sentences, trains every variable, leaks nothing", () => {
    const store = new ParamStore(1);
    const dim = 32; // ≠ hidden 1024: the projection is exercised too
    const encoder = decl.build(decl.params.parse(TEST_SIZE[decl.name] ?? {}), {
      dim,
      vocabulary: { size: 6, words: ["<pad>", "a", "b", "c", "d", "e"] },
      scope: store.root().child("text"),
      filesDir: ".",
    }) as TextEncoder;
    const tokens = tf.tensor2d([[1, 2, 3], [4, 5, 0]], undefined, "int32");
    const mask = tf.tensor2d([[1, 1, 1], [1, 1, 0]]);
    const loss = () => {
      const { words, sentence } = encoder.encode(tokens, mask, trainFc());
      expect(words.shape).toEqual([2, 3, dim]);
      expect(sentence.shape).toEqual([2, dim]);
      return tf.add(tf.sum(tf.square(sentence)), tf.sum(words)) as tf.Scalar;
    };
    expect(deadVariables(store, loss)).toEqual([]);
    const before = tf.memory().numTensors;
    deadVariables(store, loss);
    expect(tf.memory().numTensors).toBe(before);
    store.dispose();
  });
});
