// Padding invariance (what text-length buckets of a compiled step rely on): every text encoder,
// fusion module and router gives the same outputs to 1e-6 for a batch with and without extra
// masked words at the end — in training mode, dropout included — on cpu and torch.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { useBackend } from "../../src/backend/index.js";
import { seedStepGenerator } from "../../src/backend/replay.js";
import { createRegistry } from "../../src/builtins.js";
import { normal, ParamStore } from "../../src/nn/scope.js";
import type { ForwardContext } from "../../src/registry/kinds.js";
import { missing } from "../support/requires.js";
import { randn } from "../nn/helpers.js";

const D = 8;
const B = 3;
const T = 4;
const PAD = 3;
const registry = createRegistry();

/** A training-mode context with fixed seeds; on torch the native dropout generator is reseeded too. */
function training(): ForwardContext {
  let s = 11;
  const fc: ForwardContext = { training: true, seed: () => s++ };
  seedStepGenerator(fc);
  return fc;
}

/** (B, T, …) → (B, T + PAD, …) with `value` in the new positions. */
const padWords = <R extends tf.Rank>(x: tf.Tensor<R>, value = 0) =>
  tf.pad(x, x.shape.map((_, k) => (k === 1 ? [0, PAD] : [0, 0])) as [number, number][], value) as tf.Tensor<R>;

const words = () => randn([B, T, D], 4) as tf.Tensor3D;
const mask = () => tf.tensor2d([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]]);
const tokens = () => tf.tensor2d([[1, 2, 3, 4], [5, 6, 0, 0], [7, 0, 0, 0]], [B, T], "int32");

function scramble(store: ParamStore): void {
  for (const v of store.variables.values()) v.assign(tf.tensor(normal(0.5)(store.rng, v.shape), v.shape));
}

/** Largest |a − b| over every element (shapes must agree). */
function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(b.shape).toEqual(a.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe.each(["cpu", "torch"] as const)("padding invariance on %s", (backend) => {
  const skip = backend === "torch" && missing("addon");

  beforeAll(async () => {
    if (!skip) await useBackend(backend);
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it.skipIf(skip).each(["lstm", "bilstm", "gru"])("text encoder %s: words (at the real positions) and sentence", (name) => {
    const store = new ParamStore(3);
    const encoder = registry.build(
      "text_encoder",
      { type: name, hidden: 5, embedding_dim: 6, dropout: 0.3 },
      { dim: D, vocabulary: { size: 10, words: [] }, scope: store.root().child("text"), filesDir: "." } as never,
      "text",
    );
    scramble(store);
    tf.tidy(() => {
      const plain = encoder.encode(tokens(), mask(), training());
      const padded = encoder.encode(padWords(tokens()), padWords(mask()), training());
      expect(maxDiff(plain.words, padded.words.slice([0, 0, 0], [B, T, D]))).toBeLessThanOrEqual(1e-6);
      expect(maxDiff(plain.sentence, padded.sentence)).toBeLessThanOrEqual(1e-6);
      expect(maxDiff(padded.words.slice([0, T, 0], [B, PAD, D]), tf.zerosLike(padded.words.slice([0, T, 0], [B, PAD, D])))).toBe(0);
    });
    store.dispose();
  });

  it.skipIf(skip).each(registry.list("module").map((d) => d.name))("fusion module %s", (name) => {
    const store = new ParamStore(5);
    const hasDropout = "dropout" in ((registry.get("module", name)!.params as { shape?: object }).shape ?? {});
    const module = registry.build("module", { type: name, ...(hasDropout ? { dropout: 0.3 } : {}) }, { dim: D, scope: store.root().child("m") }, "module");
    scramble(store);
    tf.tidy(() => {
      const regions = randn([B, 5, D], 1) as tf.Tensor3D;
      const sentence = randn([B, D], 3) as tf.Tensor2D;
      const pooled = regions.mean(1) as tf.Tensor2D;
      const plain = module.forward({ tokens: regions, words: words(), wordMask: mask(), sentence, pooled }, training());
      // padded word features are arbitrary (not 0): the mask alone must hide them
      const padded = module.forward({ tokens: regions, words: padWords(words(), 5), wordMask: padWords(mask()), sentence, pooled }, training());
      expect(maxDiff(plain, padded)).toBeLessThanOrEqual(1e-6);
    });
    store.dispose();
  });

  const routers = registry.list("router").flatMap((d) => (d.name === "msr" ? [["msr", {}], ["msr", { words: true }], ["msr", { words: true, combine: "gate" }]] : [[d.name, {}]])) as [string, object][];
  it.skipIf(skip).each(routers)("router %s %j", (name, extra) => {
    const store = new ParamStore(7);
    const router = registry.build("router", { type: name, ...extra }, { dim: D, senders: 3, receivers: 3, final: false, scope: store.root().child("r") }, "router");
    scramble(store);
    tf.tidy(() => {
      const pooled = randn([B, 3, D], 1) as tf.Tensor3D;
      const sentence = randn([B, D], 2) as tf.Tensor2D;
      const moduleTokens = randn([3, B, 5, D], 3) as tf.Tensor4D;
      const plain = router.route(pooled, sentence, training(), { tokens: moduleTokens, words: words(), mask: mask() });
      const padded = router.route(pooled, sentence, training(), { tokens: moduleTokens, words: padWords(words(), 5), mask: padWords(mask()) });
      expect(maxDiff(plain, padded)).toBeLessThanOrEqual(1e-6);
    });
    store.dispose();
  });
});
