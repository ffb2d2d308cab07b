// Masked LSTM/GRU layers against plain-JS loops (PyTorch gate order), and padding invariance.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { gruLayer, lstmLayer } from "../../src/nn/rnn.js";
import { normal, ParamStore } from "../../src/nn/scope.js";
import { expectClose, randn, sigmoid, toArray, value, type Mat } from "./helpers.js";

const rowTimes = (x: number[], w: Mat) => w[0]!.map((_, j) => x.reduce((s, v, k) => s + v * w[k]![j]!, 0));

/** One sequence through an LSTM, step by step: i, f, g, o gates as PyTorch. */
function naiveLstm(xs: Mat, wih: Mat, whh: Mat, bias: number[]): Mat {
  const hsz = whh.length;
  let h = new Array(hsz).fill(0);
  let c = new Array(hsz).fill(0);
  return xs.map((x) => {
    const a = rowTimes(x, wih).map((v, j) => v + rowTimes(h, whh)[j]! + bias[j]!);
    const gate = (k: number, j: number) => a[k * hsz + j]!;
    c = c.map((cj, j) => sigmoid(gate(1, j)) * cj + sigmoid(gate(0, j)) * Math.tanh(gate(2, j)));
    h = c.map((cj, j) => sigmoid(gate(3, j)) * Math.tanh(cj));
    return h;
  });
}

/** One sequence through a GRU (bias_hh = 0): r, z, n gates as PyTorch. */
function naiveGru(xs: Mat, wih: Mat, whh: Mat, bias: number[]): Mat {
  const hsz = whh.length;
  let h = new Array(hsz).fill(0);
  return xs.map((x) => {
    const gx = rowTimes(x, wih).map((v, j) => v + bias[j]!);
    const gh = rowTimes(h, whh);
    h = h.map((hj, j) => {
      const r = sigmoid(gx[j]! + gh[j]!);
      const z = sigmoid(gx[hsz + j]! + gh[hsz + j]!);
      const n = Math.tanh(gx[2 * hsz + j]! + r * gh[2 * hsz + j]!);
      return (1 - z) * n + z * hj;
    });
    return h;
  });
}

const cases = [
  { name: "lstm", make: lstmLayer, naive: naiveLstm },
  { name: "gru", make: gruLayer, naive: naiveGru },
] as const;

describe.each(cases)("$name layer", ({ make, naive }) => {
  const setup = () => {
    const store = new ParamStore(2);
    const rnn = make(store.root().child("rnn"), 3, 4, "_l0");
    // a non-zero bias so the bias path is checked too
    store.variables.get("rnn.bias_ih_l0")!.assign(tf.tensor(normal(0.5)(store.rng, [store.variables.get("rnn.bias_ih_l0")!.size])));
    const w = (n: string) => value(store, `rnn.${n}_l0`);
    return { store, rnn, wih: w("weight_ih") as Mat, whh: w("weight_hh") as Mat, bias: w("bias_ih") as number[] };
  };

  it("matches a step-by-step loop on the valid words, with zeros at padding", () => {
    const { store, rnn, wih, whh, bias } = setup();
    const x = randn([2, 5, 3], 4) as tf.Tensor3D;
    const mask = tf.tensor2d([
      [1, 1, 1, 1, 1],
      [1, 1, 1, 0, 0],
    ]);
    const out = toArray(rnn.run(x, mask)) as Mat[];
    const xs = toArray(x) as Mat[];
    expectClose(out[0], naive(xs[0]!, wih, whh, bias), 1e-5);
    expectClose(out[1]!.slice(0, 3), naive(xs[1]!.slice(0, 3), wih, whh, bias), 1e-5);
    expectClose(out[1]!.slice(3), [new Array(4).fill(0), new Array(4).fill(0)], 0);
    store.dispose();
  });

  it("gives the same results for the real words however much padding follows (and whatever it holds)", () => {
    const { store, rnn } = setup();
    const x = randn([1, 3, 3], 8) as tf.Tensor3D;
    const short = toArray(rnn.run(x, tf.ones([1, 3]) as tf.Tensor2D))[0];
    const padded = tf.concat([x, tf.mul(randn([1, 4, 3], 9), 50)], 1) as tf.Tensor3D;
    const long = toArray(rnn.run(padded, tf.tensor2d([[1, 1, 1, 0, 0, 0, 0]])))[0] as Mat;
    expectClose(long.slice(0, 3), short, 1e-6);
    store.dispose();
  });

  it("runs backwards from the last valid word when reversed", () => {
    const { store, rnn, wih, whh, bias } = setup();
    const x = randn([1, 4, 3], 6) as tf.Tensor3D;
    const out = toArray(rnn.run(x, tf.tensor2d([[1, 1, 1, 0]]), true))[0] as Mat;
    const xs = (toArray(x) as Mat[])[0]!;
    const expected = naive(xs.slice(0, 3).reverse(), wih, whh, bias).reverse();
    expectClose(out.slice(0, 3), expected, 1e-5);
    expect(out[3]).toEqual([0, 0, 0, 0]);
    store.dispose();
  });

  it("handles a one-word batch (T = 1) forward and backward", () => {
    const { store, rnn } = setup();
    const x = randn([2, 1, 3], 6) as tf.Tensor3D;
    const { grads } = tf.variableGrads(() => tf.sum(rnn.run(x, tf.ones([2, 1]) as tf.Tensor2D)) as tf.Scalar, store.trainable());
    expect(Object.keys(grads).length).toBe(3);
    store.dispose();
  });
});
