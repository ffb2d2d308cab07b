// Shared test helpers for the network tests: forward contexts, plain-JS math for naive
// references, and tensor ↔ nested array conversion.
import * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";
import type { ForwardContext, FusionInput } from "../../src/registry/kinds.js";
import { Rng } from "../../src/util/rng.js";

tf.env().set("IS_TEST", true);

export const evalFc: ForwardContext = { training: false, seed: () => 0 };
export const trainFc = (seed = 1): ForwardContext => {
  let s = seed;
  return { training: true, seed: () => s++ };
};

export type Mat = number[][];

/** Seeded N(0, 1) tensor. */
export function randn(shape: number[], seed = 1): tf.Tensor {
  const rng = new Rng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}

/** A seeded fusion-module input at width d: 2 samples, 3 region tokens, 4 words (the second sample's last two padding). */
export function fusionInput(d: number): FusionInput {
  return {
    tokens: randn([2, 3, d], 1) as tf.Tensor3D,
    words: randn([2, 4, d], 2) as tf.Tensor3D,
    wordMask: tf.tensor2d([
      [1, 1, 1, 1],
      [1, 1, 0, 0],
    ]),
    sentence: randn([2, d], 3) as tf.Tensor2D,
    pooled: randn([2, d], 4) as tf.Tensor2D,
  };
}

export const toArray = (t: tf.Tensor): any => t.arraySync();

export function matmul(a: Mat, b: Mat): Mat {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
}
export const addRow = (a: Mat, bias: number[]): Mat => a.map((row) => row.map((v, j) => v + bias[j]!));
export const transpose = (a: Mat): Mat => a[0]!.map((_, j) => a.map((row) => row[j]!));
export function softmax(row: number[]): number[] {
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}
export function layerNormRows(a: Mat, w: number[], b: number[], eps = 1e-5): Mat {
  return a.map((row) => {
    const mean = row.reduce((s, v) => s + v, 0) / row.length;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
    return row.map((v, j) => ((v - mean) / Math.sqrt(variance + eps)) * w[j]! + b[j]!);
  });
}
export const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Every number of `actual` within `tol` of `expected` (nested arrays). */
export function expectClose(actual: unknown, expected: unknown, tol = 1e-4): void {
  const a = [actual].flat(Infinity) as number[];
  const e = [expected].flat(Infinity) as number[];
  expect(a.length).toBe(e.length);
  const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - e[i]!)), 0);
  expect(worst).toBeLessThanOrEqual(tol);
}

/** A variable's value as a nested array. */
export const value = (store: { variables: Map<string, tf.Variable> }, name: string): any => {
  const v = store.variables.get(name);
  if (!v) throw new Error(`no variable ${name}; have ${[...store.variables.keys()].join(", ")}`);
  return v.arraySync();
};

/** Plain-JS multi-head attention of one sample: explicit loops over heads and keys. */
export function naiveAttention(store: { variables: Map<string, tf.Variable> }, prefix: string, q: Mat, kv: Mat, mask: number[], heads: number): Mat {
  const p = (n: string) => ({ w: value(store, `${prefix}.${n}.weight`) as Mat, b: value(store, `${prefix}.${n}.bias`) as number[] });
  const proj = (x: Mat, n: string) => addRow(matmul(x, p(n).w), p(n).b);
  const [Q, K, V] = [proj(q, "q"), proj(kv, "k"), proj(kv, "v")];
  const d = Q[0]!.length;
  const dh = d / heads;
  const out: Mat = Q.map(() => new Array(d).fill(0));
  for (let h = 0; h < heads; h++) {
    Q.forEach((qRow, i) => {
      const valid = K.map((_, j) => j).filter((j) => mask[j] === 1);
      let logits = valid.map((j) => {
        let s = 0;
        for (let c = h * dh; c < (h + 1) * dh; c++) s += qRow[c]! * K[j]![c]!;
        return s / Math.sqrt(dh);
      });
      logits = softmax(logits);
      valid.forEach((j, k) => {
        for (let c = h * dh; c < (h + 1) * dh; c++) out[i]![c]! += logits[k]! * V[j]![c]!;
      });
    });
  }
  return addRow(matmul(out, p("o").w), p("o").b);
}

