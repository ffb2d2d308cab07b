import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { ParamStore } from "../../src/nn/scope.js";
import { batchClassification } from "../../src/train/losses/batch-classification.js";
import { consistency } from "../../src/train/losses/consistency.js";
import { pathDistillation } from "../../src/train/losses/path-distillation.js";
import type { LossInput } from "../../src/registry/kinds-training.js";

tf.env().set("IS_TEST", true);

const input = (parts: Partial<LossInput>): LossInput => ({
  query: tf.zeros([1, 2]) as tf.Tensor2D,
  tokens: tf.zeros([1, 1, 2]) as tf.Tensor3D,
  paths: [],
  lastInputs: tf.zeros([1, 1, 2]) as tf.Tensor3D,
  target: tf.zeros([1, 2]) as tf.Tensor2D,
  teacher: null,
  teacherMask: null,
  ...parts,
});

const value = (t: tf.Scalar) => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};

describe("batch_classification", () => {
  it("is cross-entropy over s²·cos logits with s initialised to 4", () => {
    const store = new ParamStore(0);
    const loss = batchClassification.build(batchClassification.params.parse({}), { dim: 2, scope: store.root().child("losses") });
    expect(store.variables.get("losses.scale")!.dataSync()[0]).toBe(4);
    // cos: q0·t0 = 1, q0·t1 = 1/√2, q1·t0 = 0, q1·t1 = 1/√2; logits = 16·cos.
    const query = tf.tensor2d([[3, 0], [0, 2]]);
    const target = tf.tensor2d([[1, 0], [1, 1]]);
    const r = 16 / Math.SQRT2;
    const row0 = Math.log(1 + Math.exp(r - 16)); // −log softmax([16, r])[0]
    const row1 = Math.log(1 + Math.exp(0 - r)); // −log softmax([0, r])[1]
    expect(value(loss.compute(input({ query, target })))).toBeCloseTo((row0 + row1) / 2, 5);
    store.dispose();
  });

  it("sends a gradient to the learnable scale", () => {
    const store = new ParamStore(0);
    const loss = batchClassification.build(batchClassification.params.parse({}), { dim: 2, scope: store.root() });
    const query = tf.tensor2d([[1, 0], [0, 1]]);
    const target = tf.tensor2d([[1, 0], [1, 1]]);
    const { grads } = tf.variableGrads(() => loss.compute(input({ query, target })));
    expect(Math.abs(grads["scale@" + store.uid]!.dataSync()[0]!)).toBeGreaterThan(1e-4);
    store.dispose();
  });
});

describe("consistency", () => {
  // f̄ = (1, 0), t = (0, 1), last-layer inputs (1, 0) + (1, 1) = (2, 1).
  const parts = () => ({
    query: tf.tensor2d([[1, 0]]),
    target: tf.tensor2d([[0, 1]]),
    lastInputs: tf.tensor3d([[[1, 0], [1, 1]]]),
  });

  it("adds the cosine distances to the target and to the summed last-layer inputs", () => {
    const loss = consistency.build(consistency.params.parse({ distance: "cosine" }), {} as never);
    // (1 − cos(f̄, t)) + (1 − cos(f̄, (2, 1))) = 1 + (1 − 2/√5)
    expect(value(loss.compute(input(parts())))).toBeCloseTo(1 + 1 - 2 / Math.sqrt(5), 5);
  });

  it("adds squared L2 distances divided by d", () => {
    const loss = consistency.build(consistency.params.parse({ distance: "l2" }), {} as never);
    // ‖(1,0) − (0,1)‖²/2 = 1; ‖(1,0) − (2,1)‖²/2 = 1
    expect(value(loss.compute(input(parts())))).toBeCloseTo(2, 6);
  });
});

describe("path_distillation", () => {
  const student = () => [tf.tensor3d([[[0.5, 0.5], [0.25, 0.75]]]), tf.tensor3d([[[0.4], [0.6]]])];
  const uniform = () => [tf.tensor3d([[[0.5, 0.5], [0.5, 0.5]]]), tf.tensor3d([[[0.5], [0.5]]])];
  const kl = (t: number[], s: number[]) => t.reduce((a, ti, i) => a + ti * Math.log(ti / s[i]!), 0);

  it("is zero without a teacher (first epoch)", () => {
    const loss = pathDistillation.build(pathDistillation.params.parse({}), {} as never);
    expect(value(loss.compute(input({ paths: student() })))).toBe(0);
  });

  it("is Σ KL(teacher ‖ student) over every distribution at τ = 1", () => {
    const loss = pathDistillation.build(pathDistillation.params.parse({ temperature: 1 }), {} as never);
    const expected = kl([0.5, 0.5], [0.25, 0.75]) + kl([0.5, 0.5], [0.4, 0.6]); // row 0 equals its teacher
    const got = value(loss.compute(input({ paths: student(), teacher: uniform(), teacherMask: tf.tensor1d([1]) })));
    expect(got).toBeCloseTo(expected, 5);
  });

  it("softens with softmax(log p / τ) and scales by τ², averaging over samples that have a teacher", () => {
    const loss = pathDistillation.build(pathDistillation.params.parse({ temperature: 2 }), {} as never);
    // softmax(log p / 2) = √p normalised; the uniform teacher stays uniform.
    const soft = (p: number[]) => {
      const r = p.map(Math.sqrt);
      const z = r[0]! + r[1]!;
      return r.map((x) => x / z);
    };
    const one = 4 * (kl([0.5, 0.5], soft([0.25, 0.75])) + kl([0.5, 0.5], soft([0.4, 0.6])));
    // Batch of 2: sample 1 has no teacher yet (mask 0) and must not count.
    const paths = [tf.tensor3d([[[0.5, 0.5], [0.25, 0.75]], [[0.9, 0.1], [0.1, 0.9]]]), tf.tensor3d([[[0.4], [0.6]], [[0.9], [0.1]]])];
    const teacher = [tf.tensor3d([[[0.5, 0.5], [0.5, 0.5]], [[0.1, 0.9], [0.9, 0.1]]]), tf.tensor3d([[[0.5], [0.5]], [[0.1], [0.9]]])];
    const got = value(loss.compute(input({ paths, teacher, teacherMask: tf.tensor1d([1, 0]) })));
    expect(got).toBeCloseTo(one, 5);
  });
});
