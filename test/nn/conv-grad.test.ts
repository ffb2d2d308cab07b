import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { conv2dFastGrad } from "../../src/nn/conv-grad.js";

tf.env().set("IS_TEST", true);

describe("conv2dFastGrad", () => {
  // [size, in, out, stride, pad, kernel]: odd sizes with stride 2 exercise the cropped input rows.
  const cases = [
    [32, 3, 4, 2, 1, 3],
    [15, 5, 4, 2, 1, 3],
    [9, 4, 6, 1, 0, 3],
    [8, 3, 5, 2, 0, 1],
  ] as const;
  it.each(cases)("matches tf.conv2d's value and gradients (size %i, %i→%i, stride %i, pad %i, kernel %i)", (h, ci, co, s, p, k) => {
    const x = tf.randomNormal([2, h, h, ci], 0, 1, "float32", 1) as tf.Tensor4D;
    const w = tf.randomNormal([k, k, ci, co], 0, 1, "float32", 2) as tf.Tensor4D;
    const weights = (y: tf.Tensor) => tf.randomNormal(y.shape, 0, 1, "float32", 3);
    const loss = (conv: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor) => {
      const y = conv(a as tf.Tensor4D, b as tf.Tensor4D);
      return tf.mul(y, weights(y)).sum();
    };
    const ref = tf.grads(loss((a, b) => tf.conv2d(a, b, s, p === 0 ? "valid" : p)))([x, w]);
    const got = tf.grads(loss((a, b) => conv2dFastGrad(a, b, s, p)))([x, w]);
    const diff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
    expect(diff(conv2dFastGrad(x, w, s, p), tf.conv2d(x, w, s, p === 0 ? "valid" : p))).toBe(0);
    expect(diff(got[0]!, ref[0]!)).toBe(0);
    expect(diff(got[1]!, ref[1]!)).toBeLessThan(1e-3);
    expect(tf.max(tf.abs(ref[1]!)).dataSync()[0]).toBeGreaterThan(1);
  });
});
