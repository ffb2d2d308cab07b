// The nn building blocks against plain-JS references: linear, layer norm, multi-head
// attention with a key mask (explicit softmax loop), dropout, conv and batch norm.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { multiHeadAttention } from "../../src/nn/attention.js";
import { batchNorm, conv2d } from "../../src/nn/conv.js";
import { dropout } from "../../src/nn/dropout.js";
import { layerNorm } from "../../src/nn/layer-norm.js";
import { linear } from "../../src/nn/linear.js";
import { normal, ParamStore } from "../../src/nn/scope.js";
import {
  addRow,
  evalFc,
  expectClose,
  layerNormRows,
  matmul,
  naiveAttention,
  randn,
  toArray,
  trainFc,
  value,
  type Mat,
} from "./helpers.js";

describe("linear", () => {
  it("computes x·W + b over the last axis of a rank-3 input", () => {
    const store = new ParamStore(1);
    const lin = linear(store.root().child("fc"), 3, 2, { biasInit: normal(1) });
    const x = randn([2, 4, 3], 5);
    const y = toArray(lin.apply(x)) as number[][][];
    const w = value(store, "fc.weight");
    const b = value(store, "fc.bias");
    const xs = toArray(x) as number[][][];
    expect(y.length).toBe(2);
    xs.forEach((rows, i) => expectClose(y[i], addRow(matmul(rows, w), b)));
    store.dispose();
  });
});

describe("layerNorm", () => {
  it("normalises the last axis with biased variance, then scales and shifts", () => {
    const store = new ParamStore(1);
    const ln = layerNorm(store.root().child("ln"), 4);
    store.variables.get("ln.weight")!.assign(tf.tensor1d([1, 2, 0.5, -1]));
    store.variables.get("ln.bias")!.assign(tf.tensor1d([0, 1, -1, 0.25]));
    const x = [
      [1, 2, 3, 4],
      [-2, 0, 0, 10],
    ];
    expectClose(toArray(ln.apply(tf.tensor2d(x))), layerNormRows(x, [1, 2, 0.5, -1], [0, 1, -1, 0.25]));
    store.dispose();
  });
});

describe("multiHeadAttention", () => {
  const setup = () => {
    const store = new ParamStore(3);
    const attn = multiHeadAttention(store.root().child("attn"), 4, 2);
    const q = randn([2, 3, 4], 1) as tf.Tensor3D;
    const kv = randn([2, 5, 4], 2) as tf.Tensor3D;
    const mask = tf.tensor2d([
      [1, 1, 1, 1, 1],
      [1, 1, 0, 0, 0],
    ]);
    return { store, attn, q, kv, mask };
  };

  it("matches an explicit per-head softmax loop, masked keys left out", () => {
    const { store, attn, q, kv, mask } = setup();
    const out = toArray(attn.apply(q, kv, mask, evalFc)) as Mat[];
    const qs = toArray(q) as Mat[];
    const kvs = toArray(kv) as Mat[];
    const masks = toArray(mask) as number[][];
    for (let b = 0; b < 2; b++) expectClose(out[b], naiveAttention(store, "attn", qs[b]!, kvs[b]!, masks[b]!, 2));
    store.dispose();
  });

  it("ignores the values at masked positions", () => {
    const { store, attn, q, kv, mask } = setup();
    const noise = tf.mul(randn([2, 5, 4], 9), tf.sub(1, mask).expandDims(2)) as tf.Tensor3D;
    const a = toArray(attn.apply(q, kv, mask, evalFc));
    const b = toArray(attn.apply(q, tf.add(kv, tf.mul(noise, 100)) as tf.Tensor3D, mask, evalFc));
    expectClose(b, a, 1e-5);
    store.dispose();
  });

  it("rejects a width the heads do not divide, saying which", () => {
    const store = new ParamStore(0);
    expect(() => multiHeadAttention(store.root().child("x"), 6, 4)).toThrow(/6 is not divisible by heads = 4/);
    store.dispose();
  });
});

describe("dropout", () => {
  it("is the identity when not training and scales kept units by 1/(1−rate) when training", () => {
    const x = tf.ones([1000]);
    expect(dropout(x, 0.5, evalFc)).toBe(x);
    const y = toArray(dropout(x, 0.25, trainFc(7))) as number[];
    const kept = y.filter((v) => v !== 0);
    kept.forEach((v) => expect(v).toBeCloseTo(1 / 0.75, 5));
    expect(kept.length).toBeGreaterThan(700);
    expect(kept.length).toBeLessThan(800);
    // the same seed gives the same mask
    expect(toArray(dropout(x, 0.25, trainFc(7)))).toEqual(y);
  });
});

describe("conv2d (NHWC, [kh, kw, in, out])", () => {
  it("matches a direct loop with symmetric padding and stride 2", () => {
    const store = new ParamStore(4);
    const conv = conv2d(store.root().child("c"), { kernel: 3, inChannels: 2, outChannels: 3, stride: 2, pad: 1, bias: true });
    store.variables.get("c.bias")!.assign(tf.tensor1d([0.5, -1, 2]));
    const x = randn([1, 5, 5, 2], 3) as tf.Tensor4D;
    const y = toArray(conv.apply(x))[0] as number[][][];
    const xs = toArray(x)[0] as number[][][];
    const w = value(store, "c.weight") as number[][][][];
    const bias = [0.5, -1, 2];
    expect([y.length, y[0]!.length, y[0]![0]!.length]).toEqual([3, 3, 3]);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++)
        for (let o = 0; o < 3; o++) {
          let s = bias[o]!;
          for (let di = 0; di < 3; di++)
            for (let dj = 0; dj < 3; dj++) {
              const r = 2 * i - 1 + di;
              const c = 2 * j - 1 + dj;
              if (r < 0 || c < 0 || r >= 5 || c >= 5) continue;
              for (let ch = 0; ch < 2; ch++) s += xs[r]![c]![ch]! * w[di]![dj]![ch]![o]!;
            }
          expect(y[i]![j]![o]!).toBeCloseTo(s, 4);
        }
    store.dispose();
  });
});

describe("batchNorm", () => {
  it("normalises by batch moments in training and updates running stats (momentum 0.1, unbiased var)", () => {
    const store = new ParamStore(1);
    const bn = batchNorm(store.root().child("bn"), 2);
    const x = tf.tensor4d([1, 10, 2, 20, 3, 30, 6, 60], [2, 2, 1, 2]);
    const y = toArray(bn.apply(x, true)) as number[][][][];
    // channel 0 values 1, 2, 3, 6: mean 3, biased var 3.5, unbiased 14/3
    const ch0 = [1, 2, 3, 6].map((v) => (v - 3) / Math.sqrt(3.5 + 1e-5));
    expectClose(
      y.flat(2).map((px) => px[0]),
      ch0,
    );
    expectClose(value(store, "bn.running_mean"), [0.3, 3]);
    expectClose(value(store, "bn.running_var"), [0.9 + 0.1 * (14 / 3), 0.9 + 0.1 * (1400 / 3)], 1e-3);
    store.dispose();
  });

  it("uses the running stats in eval mode and keeps them fixed", () => {
    const store = new ParamStore(1);
    const bn = batchNorm(store.root().child("bn"), 1);
    store.variables.get("bn.running_mean")!.assign(tf.tensor1d([2]));
    store.variables.get("bn.running_var")!.assign(tf.tensor1d([4]));
    store.variables.get("bn.weight")!.assign(tf.tensor1d([3]));
    store.variables.get("bn.bias")!.assign(tf.tensor1d([1]));
    const y = toArray(bn.apply(tf.tensor4d([2, 4, 8, 0], [1, 2, 2, 1]), false)).flat(3);
    expectClose(y, [2, 4, 8, 0].map((v) => ((v - 2) / Math.sqrt(4 + 1e-5)) * 3 + 1));
    expectClose(value(store, "bn.running_mean"), [2]);
    expect(store.trainable().map((v) => v.name.split("@")[0])).toEqual(["bn.weight", "bn.bias"]);
    store.dispose();
  });
});
