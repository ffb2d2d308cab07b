// Text encoders: lstm / bilstm / gru against PyTorch (packed sequences) on a padded batch,
// padding invariance, the projection to d, GloVe initialisation and out-of-vocabulary counts.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { bilstm } from "../../src/encoders/bilstm.js";
import { gru } from "../../src/encoders/gru.js";
import { lstm } from "../../src/encoders/lstm.js";
import type { SafeTensor } from "../../src/io/safetensors.js";
import { normal, ParamStore } from "../../src/nn/scope.js";
import type { TextEncoder } from "../../src/registry/kinds.js";
import { evalFc, expectClose, toArray } from "../nn/helpers.js";
import { relativeError, tempDir, torchReference } from "./reference.js";
import { missing } from "../support/requires.js";

const VOCAB = ["<pad>", "<unk>", "red", "Blue", "circle", "square", "make", "the", "add", "zzz"];
const vocabulary = { size: VOCAB.length, words: VOCAB };
type Decl = typeof lstm;

function build(decl: Decl, params: Record<string, unknown>, dim = 6, filesDir = ".") {
  const store = new ParamStore(3);
  const encoder = decl.build(decl.params.parse({ hidden: 5, embedding_dim: 4, ...params }), {
    dim,
    vocabulary,
    scope: store.root().child("text"),
    filesDir,
  }) as TextEncoder;
  // non-zero biases so the bias paths are compared too
  for (const [k, v] of store.variables) if (k.includes("bias")) v.assign(tf.tensor(normal(0.3)(store.rng, v.shape), v.shape));
  return { store, encoder };
}

/** Our text.* variables with PyTorch's names and layouts (dense and RNN weights transposed). */
function torchLayout(store: ParamStore): Record<string, SafeTensor> {
  const out: Record<string, SafeTensor> = {};
  for (const [name, v] of store.variables) {
    const local = name.slice("text.".length);
    const t = tf.tidy(() => (v.rank === 2 && local !== "embedding.weight" ? v.transpose() : v.clone()));
    out[local] = { dtype: "F32", shape: t.shape, data: t.dataSync() as Float32Array };
    const hh = /^rnn\.bias_ih(_l0.*)$/.exec(local);
    if (hh) out[`rnn.bias_hh${hh[1]}`] = { dtype: "F32", shape: t.shape, data: new Float32Array(t.size) };
  }
  return out;
}

const tokens = tf.tensor2d(
  [
    [6, 7, 2, 4, 3],
    [8, 5, 0, 0, 0],
    [9, 0, 0, 0, 0],
  ],
  undefined,
  "int32",
);
const mask = tf.tensor2d([
  [1, 1, 1, 1, 1],
  [1, 1, 0, 0, 0],
  [1, 0, 0, 0, 0],
]);

describe.each([
  ["lstm", lstm, 6],
  ["bilstm", bilstm, 6],
  ["gru", gru, 6],
  ["lstm without projection", lstm, 5],
  ["bilstm without projection", bilstm, 10],
] as const)("%s", (label, decl, dim) => {
  const kind = label.split(" ")[0]!;

  it.skipIf(missing("pythonTorch"))("matches PyTorch (packed sequence, max over valid words) on a padded batch", () => {
    const { store, encoder } = build(decl, {}, dim);
    expect(store.variables.has("text.proj.weight")).toBe(dim !== (kind === "bilstm" ? 10 : 5));
    const { words, sentence } = encoder.encode(tokens, mask, evalFc);
    expect(words.shape).toEqual([3, 5, dim]);
    expect(sentence.shape).toEqual([3, dim]);
    const ref = torchReference(["text", kind], {
      ...torchLayout(store),
      "input.tokens": { shape: [3, 5], data: tokens.dataSync() as Int32Array },
      "input.mask": { shape: [3, 5], data: mask.dataSync() as Float32Array },
    });
    expect(relativeError(words.dataSync(), ref["output.words"]!.data as Float32Array)).toBeLessThan(1e-5);
    expect(relativeError(sentence.dataSync(), ref["output.sentence"]!.data as Float32Array)).toBeLessThan(1e-5);
    store.dispose();
  });
});

describe("text encoder masking", () => {
  it("gives the same words and sentence however much padding follows", () => {
    const { store, encoder } = build(bilstm, {});
    const short = encoder.encode(tokens, mask, evalFc);
    const longTokens = tf.concat([tokens, tf.fill([3, 3], 5, "int32")], 1) as tf.Tensor2D;
    const longMask = tf.concat([mask, tf.zeros([3, 3])], 1) as tf.Tensor2D;
    const long = encoder.encode(longTokens, longMask, evalFc);
    expectClose(toArray(long.sentence), toArray(short.sentence), 1e-6);
    expectClose(toArray(long.words.slice([0, 0, 0], [3, 5, 6])), toArray(short.words), 1e-6);
    expect(Math.max(...(toArray(tf.abs(long.words.slice([0, 5, 0], [3, 3, 6]))).flat(2) as number[]))).toBe(0);
    store.dispose();
  });

  it("gives a zero sentence, not −1e9, for a text with no words", () => {
    const { store, encoder } = build(lstm, {});
    const { sentence } = encoder.encode(tf.zeros([1, 3], "int32") as tf.Tensor2D, tf.zeros([1, 3]) as tf.Tensor2D, evalFc);
    expectClose(toArray(sentence), [new Array(6).fill(0)], 0);
    store.dispose();
  });
});

describe("GloVe", () => {
  const gloveFile = () => {
    const dir = tempDir();
    const lines = ["the 0.1 0.2 0.3 0.4", "red 1 2 3 4", "blue -1 -2 -3 -4", "circle 0.5 0.5 0.5 0.5", "ünïcode 9 9 9 9"];
    writeFileSync(join(dir, "glove.4d.txt"), `${lines.join("\n")}\n`);
    return dir;
  };

  it("initialises the rows of words in the file (case-folded when needed) and counts the missing", () => {
    const dir = gloveFile();
    const { store, encoder } = build(lstm, { glove: "glove.4d.txt" }, 6, dir);
    const emb = toArray(store.variables.get("text.embedding.weight")!) as number[][];
    expectClose(emb[2], [1, 2, 3, 4], 0); // red
    expectClose(emb[3], [-1, -2, -3, -4], 0); // Blue → blue
    expectClose(emb[4], [0.5, 0.5, 0.5, 0.5], 0); // circle
    expectClose(emb[7], [0.1, 0.2, 0.3, 0.4], 1e-7); // the
    // <pad> and <unk> are special tokens, not missing words
    expect(encoder.glove).toMatchObject({ found: 4, missing: 4 });
    expect(encoder.glove!.missingExamples).toEqual(["square", "make", "add", "zzz"]);
    expect(emb[5]!.some((v) => v !== 0)).toBe(true); // a missing word starts random
    store.dispose();
  });

  it("keeps the embeddings fixed with freeze_embedding", () => {
    const { store } = build(lstm, { glove: "glove.4d.txt", freeze_embedding: true }, 6, gloveFile());
    expect(store.variables.get("text.embedding.weight")!.trainable).toBe(false);
    store.dispose();
  });

  it("rejects vectors of another size, with the line and the fix", () => {
    const dir = gloveFile();
    expect(() => build(lstm, { glove: "glove.4d.txt", embedding_dim: 3 }, 6, dir)).toThrow(
      /glove\.4d\.txt:1: GloVe vectors have 4 values but embedding_dim is 3; set embedding_dim: 4/,
    );
  });
});
