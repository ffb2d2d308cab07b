// Routers: distributions sum to 1 (rows over receivers; the last layer over senders), static
// is uniform, msr combines its image and text routers by mean / product / gate exactly as
// a per-sender plain-JS MLP says, shared routes on concat(mean x, s).
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { normal, ParamStore } from "../../src/nn/scope.js";
import type { Router } from "../../src/registry/kinds.js";
import { builtinRouters } from "../../src/routers/index.js";
import { msr } from "../../src/routers/msr.js";
import { shared } from "../../src/routers/shared.js";
import { staticRouter } from "../../src/routers/static.js";
import { addRow, evalFc, expectClose, matmul, randn, softmax, toArray, value, type Mat } from "../nn/helpers.js";

const D = 6;
const M = 3;
const B = 2;

function make(decl: { params: any; build: (p: any, ctx: any) => Router }, params: object, final: boolean) {
  const store = new ParamStore(11);
  const router = decl.build(decl.params.parse(params), {
    dim: D,
    senders: M,
    receivers: final ? 1 : M,
    final,
    scope: store.root().child("r"),
  });
  for (const v of store.variables.values()) v.assign(tf.tensor(normal(0.7)(store.rng, v.shape), v.shape));
  return { store, router };
}

const pooled = () => randn([B, M, D], 1) as tf.Tensor3D;
const sentence = () => randn([B, D], 2) as tf.Tensor2D;

/** Logits of sender i's own MLP `{prefix}.{i}.0` → ReLU → `{prefix}.{i}.2` on one input row. */
function senderLogits(store: ParamStore, prefix: string, i: number, x: number[]): number[] {
  const layer = (k: number, h: Mat) => addRow(matmul(h, value(store, `${prefix}.${i}.${k}.weight`)), value(store, `${prefix}.${i}.${k}.bias`));
  return layer(2, layer(0, [x]).map((r) => r.map((v) => Math.max(v, 0))))[0]!;
}

/** Logits (B, M, R) → distributions: rows over R, or (final) over the M senders. */
function normalise(logits: number[][][], final: boolean): number[][][] {
  if (!final) return logits.map((rows) => rows.map(softmax));
  return logits.map((rows) => softmax(rows.map((r) => r[0]!)).map((p) => [p]));
}

function msrParts(store: ParamStore, x: number[][][], s: number[][]) {
  const zi = x.map((rows) => rows.map((row, i) => senderLogits(store, "r.image", i, row)));
  const zt = s.map((row) => Array.from({ length: M }, (_, i) => senderLogits(store, "r.text", i, row)));
  return { zi, zt };
}

describe.each([false, true])("routers (final layer: %s)", (final) => {
  const axisSums = (p: tf.Tensor3D) => toArray(tf.sum(p, final ? 1 : 2)).flat();

  it.each(builtinRouters.map((d) => [d.name, d] as const))("%s gives distributions that sum to 1", (_n, decl) => {
    const { store, router } = make(decl, {}, final);
    const p = router.route(pooled(), sentence(), evalFc);
    expect(p.shape).toEqual([B, M, final ? 1 : M]);
    expectClose(axisSums(p), new Array(final ? B : B * M).fill(1), 1e-5);
    expect(Math.min(...(toArray(p).flat(2) as number[]))).toBeGreaterThanOrEqual(0);
    store.dispose();
  });

  it("static is uniform and has no parameters", () => {
    const { store, router } = make(staticRouter, {}, final);
    const p = toArray(router.route(pooled(), sentence(), evalFc)).flat(2) as number[];
    expect(new Set(p)).toEqual(new Set([Math.fround(1 / M)])); // 1/R = 1/M in hidden layers, 1/M in the last
    expect(store.variables.size).toBe(0);
    store.dispose();
  });

  it("msr mean = ½ (image softmax + text softmax), each sender through its own MLPs", () => {
    const { store, router } = make(msr, { combine: "mean", hidden: 4 }, final);
    const x = pooled();
    const s = sentence();
    const { zi, zt } = msrParts(store, toArray(x), toArray(s));
    const [pi, pt] = [normalise(zi, final), normalise(zt, final)];
    const expected = pi.map((rows, b) => rows.map((r, i) => r.map((v, j) => (v + pt[b]![i]![j]!) / 2)));
    expectClose(toArray(router.route(x, s, evalFc)), expected, 1e-5);
    store.dispose();
  });

  it("msr product = image ⊙ text, renormalised", () => {
    const { store, router } = make(msr, { combine: "product", hidden: 4 }, final);
    const x = pooled();
    const s = sentence();
    const { zi, zt } = msrParts(store, toArray(x), toArray(s));
    const [pi, pt] = [normalise(zi, final), normalise(zt, final)];
    const prod = pi.map((rows, b) => rows.map((r, i) => r.map((v, j) => v * pt[b]![i]![j]!)));
    const expected = prod.map((rows) => {
      if (!final) return rows.map((r) => r.map((v) => v / r.reduce((a, c) => a + c, 0)));
      const total = rows.reduce((a, r) => a + r[0]!, 0);
      return rows.map((r) => [r[0]! / total]);
    });
    expectClose(toArray(router.route(x, s, evalFc)), expected, 1e-5);
    store.dispose();
  });

  it("msr gate mixes by σ(gate_i) per sender (the last layer renormalised over senders)", () => {
    const { store, router } = make(msr, { combine: "gate", hidden: 4 }, final);
    store.variables.get("r.gate")!.assign(tf.tensor1d([2, -1, 0]));
    const x = pooled();
    const s = sentence();
    const { zi, zt } = msrParts(store, toArray(x), toArray(s));
    const [pi, pt] = [normalise(zi, final), normalise(zt, final)];
    const g = [2, -1, 0].map((v) => 1 / (1 + Math.exp(-v)));
    let expected = pi.map((rows, b) => rows.map((r, i) => r.map((v, j) => g[i]! * v + (1 - g[i]!) * pt[b]![i]![j]!)));
    if (final) expected = expected.map((rows) => rows.map((r) => [r[0]! / rows.reduce((a, q) => a + q[0]!, 0)]));
    expectClose(toArray(router.route(x, s, evalFc)), expected, 1e-5);
    store.dispose();
  });

  it("shared routes each sender on concat(its pooled tokens, s)", () => {
    const { store, router } = make(shared, { hidden: 5 }, final);
    const x = pooled();
    const s = sentence();
    const xs = toArray(x) as number[][][];
    const ss = toArray(s) as number[][];
    const logits = xs.map((rows, b) => rows.map((row, i) => senderLogits(store, "r.mlps", i, [...row, ...ss[b]!])));
    expectClose(toArray(router.route(x, s, evalFc)), normalise(logits, final), 1e-5);
    store.dispose();
  });
});

describe("router MLP with hidden = 0", () => {
  it("is one linear layer per sender ({i}.0 only)", () => {
    const { store } = make(shared, { hidden: 0 }, false);
    expect([...store.variables.keys()].filter((k) => k.startsWith("r.mlps.0."))).toEqual(["r.mlps.0.0.weight", "r.mlps.0.0.bias"]);
    store.dispose();
  });
});
