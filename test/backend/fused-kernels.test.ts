// sdfn's own kernels (SdfnBatchNormTrain + its gradient, SdfnAdamStep) on a backend without a
// native version: the written-out formulas of src/backend/composite.ts, checked against tfjs
// autodiff of the textbook formula and against an Adam step computed by hand.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";

import { adamStep, batchNormTrain } from "../../src/backend/index.js";
import { registerCompositeKernels } from "../../src/backend/composite.js";
import { Rng } from "../../src/util/rng.js";

const eps = 1e-5;

function random(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => rng.next() * 4 - 2), shape);
}

// The textbook formula, differentiated by tfjs.
function textbook(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, x.shape.map((_, k) => k).slice(0, -1));
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma), beta);
}

function expectClose(a: tf.Tensor, b: tf.Tensor, tol = 1e-4): void {
  expect(a.shape).toEqual(b.shape);
  const [av, bv] = [a.dataSync(), b.dataSync()];
  for (let k = 0; k < av.length; k++) expect(Math.abs(av[k] - bv[k])).toBeLessThanOrEqual(tol * (1 + Math.abs(bv[k])));
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("fused kernels on the cpu backend", () => {
  for (const shape of [[6, 3], [2, 3, 4, 5]]) {
    it(`batchNormTrain ${JSON.stringify(shape)}: value and gradients as autodiff of the formula`, () => {
      const c = shape[shape.length - 1];
      const [x, gamma, beta, dy] = [random(shape, 1), random([c], 2), random([c], 3), random(shape, 4)];
      const loss = (f: (...t: tf.Tensor[]) => tf.Tensor) => (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(xs, g, b), dy));
      const fused = (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => batchNormTrain(xs, g as tf.Tensor1D, b as tf.Tensor1D, eps);
      expectClose(fused(x, gamma, beta), textbook(x, gamma, beta));
      const got = tf.grads(loss(fused))([x, gamma, beta]);
      const want = tf.grads(loss(textbook))([x, gamma, beta]);
      got.forEach((g, k) => expectClose(g, want[k]));
    });
  }

  it("batchNormTrain hands the batch mean and biased variance to onStats", () => {
    const x = tf.tensor2d([[1, 10], [3, 20], [5, 60]]);
    let stats: number[][] = [];
    batchNormTrain(x, tf.ones([2]) as tf.Tensor1D, tf.zeros([2]) as tf.Tensor1D, eps, (mean, variance) => {
      stats = [Array.from(mean.dataSync()), Array.from(variance.dataSync())];
    });
    // column 0: mean 3, variance (4 + 0 + 4) / 3; column 1: mean 30, variance (400 + 100 + 900) / 3
    expect(stats[0]).toEqual([3, 30]);
    expect(stats[1][0]).toBeCloseTo(8 / 3, 3);
    expect(stats[1][1]).toBeCloseTo(1400 / 3, 1);
  });

  for (const decoupled of [false, true]) {
    it(`adamStep (${decoupled ? "AdamW" : "Adam"}) as computed by hand`, () => {
      const o = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, bias1: 1 - 0.9 ** 2, bias2: 1 - 0.999 ** 2, weightDecay: 0.01, decoupled };
      const [p, m, v, g] = [[1, -2], [0.1, 0.2], [0.01, 0.04], [0.5, -1]];
      const out = adamStep(tf.tensor1d(p), tf.tensor1d(m), tf.tensor1d(v), tf.tensor1d(g), o);
      p.forEach((pk, k) => {
        const gk = decoupled ? g[k] : g[k] + o.weightDecay * pk;
        const mk = o.beta1 * m[k] + (1 - o.beta1) * gk;
        const vk = o.beta2 * v[k] + (1 - o.beta2) * gk * gk;
        let next = pk - (o.lr * mk) / o.bias1 / (Math.sqrt(vk / o.bias2) + o.eps);
        if (decoupled) next -= o.lr * o.weightDecay * pk;
        expect(out.m.dataSync()[k]).toBeCloseTo(mk, 6);
        expect(out.v.dataSync()[k]).toBeCloseTo(vk, 6);
        expect(out.variable.dataSync()[k]).toBeCloseTo(next, 5);
      });
    });
  }

  it("a backend activated later gets every fused kernel it lacks", () => {
    expect(tf.getKernel("SdfnAdamStep", "sdfn-test-backend")).toBeUndefined();
    registerCompositeKernels("sdfn-test-backend");
    for (const name of ["SdfnBatchNormTrain", "SdfnBatchNormTrainGrad", "SdfnAdamStep"]) {
      expect(tf.getKernel(name, "sdfn-test-backend")?.kernelName).toBe(name);
    }
  });
});
