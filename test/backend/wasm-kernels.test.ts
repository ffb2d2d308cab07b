// The gradient kernels sdfn registers for tfjs-backend-wasm (src/backend/wasm/*) give the
// cpu backend's values: Conv2DBackpropFilter over strides, paddings and both data formats,
// conv2d's filter gradient end to end, and UnsortedSegmentSum (the gradient of Gather).
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { useBackend } from "../../src/backend/index.js";

/** Deterministic values in [−1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Runs `f` on each backend and returns what it read back. */
async function onBoth(f: () => tf.Tensor): Promise<{ cpu: Float32Array; wasm: Float32Array; shape: number[] }> {
  const read = async (name: string) => {
    await useBackend(name);
    const t = tf.tidy(f);
    const data = (await t.data()) as Float32Array;
    const shape = t.shape;
    t.dispose();
    return { data, shape };
  };
  const cpu = await read("cpu");
  const wasm = await read("wasm");
  expect(wasm.shape).toEqual(cpu.shape);
  return { cpu: cpu.data, wasm: wasm.data, shape: cpu.shape };
}

function expectClose(got: Float32Array, want: Float32Array, tol = 1e-4) {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
  expect(worst).toBeLessThan(tol);
}

interface Case {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: [number, number];
  pad: "same" | "valid" | number;
  dataFormat: "NHWC" | "NCHW";
}

const CASES: Case[] = [
  { name: "3×3 stride 1 same (NHWC)", x: [2, 7, 6, 3], filter: [3, 3, 3, 5], strides: [1, 1], pad: "same", dataFormat: "NHWC" },
  { name: "3×3 stride 2 same, odd size (NHWC)", x: [3, 9, 8, 4], filter: [3, 3, 4, 6], strides: [2, 2], pad: "same", dataFormat: "NHWC" },
  { name: "1×1 stride 2 valid (ResNet shortcut, NHWC)", x: [2, 8, 8, 6], filter: [1, 1, 6, 8], strides: [2, 2], pad: "valid", dataFormat: "NHWC" },
  { name: "5×3 strides (2, 1), explicit pad 1 (NHWC)", x: [1, 10, 7, 2], filter: [5, 3, 2, 3], strides: [2, 1], pad: 1, dataFormat: "NHWC" },
  { name: "7×7 stride 2 pad 3 (ResNet stem, NHWC)", x: [1, 16, 16, 3], filter: [7, 7, 3, 4], strides: [2, 2], pad: 3, dataFormat: "NHWC" },
  { name: "3×3 stride 2 same (NCHW)", x: [2, 3, 9, 8], filter: [3, 3, 3, 4], strides: [2, 2], pad: "same", dataFormat: "NCHW" },
  { name: "2×2 stride 1 valid (NCHW)", x: [1, 2, 5, 6], filter: [2, 2, 2, 3], strides: [1, 1], pad: "valid", dataFormat: "NCHW" },
];

describe("wasm gradient kernels against the cpu backend", () => {
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it.each(CASES)("Conv2DBackpropFilter: $name", async (c) => {
    const channelsLast = c.dataFormat === "NHWC";
    const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad, undefined, false, channelsLast ? "channelsLast" : "channelsFirst");
    const dyShape = channelsLast
      ? [c.x[0], info.outHeight, info.outWidth, c.filter[3]]
      : [c.x[0], c.filter[3], info.outHeight, info.outWidth];
    const xs = values(c.x.reduce((a, b) => a * b), 1);
    const dys = values(dyShape.reduce((a, b) => a * b), 2);
    const { cpu, wasm, shape } = await onBoth(
      () =>
        tf.engine().runKernel(
          tf.Conv2DBackpropFilter,
          { x: tf.tensor4d(xs, c.x), dy: tf.tensor(dys, dyShape) },
          { strides: c.strides, pad: c.pad, dataFormat: c.dataFormat, filterShape: c.filter } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor,
    );
    expect(shape).toEqual(c.filter);
    expect(Math.max(...cpu.map(Math.abs))).toBeGreaterThan(0.1); // not a vacuous comparison of zeros
    expectClose(wasm, cpu);
  });

  it("conv2d's filter gradient (tf.grads, through the registered kernel) matches, with ReLU zeros in x", async () => {
    const xs = values(2 * 12 * 12 * 4, 3);
    const ws = values(3 * 3 * 4 * 8, 4);
    const { cpu, wasm } = await onBoth(() => {
      const x = tf.relu(tf.tensor4d(xs, [2, 12, 12, 4])) as tf.Tensor4D; // about half the inputs are 0
      const loss = (w: tf.Tensor) => tf.conv2d(x, w as tf.Tensor4D, 2, "same").square().sum();
      return tf.grad(loss)(tf.tensor4d(ws, [3, 3, 4, 8]));
    });
    expectClose(wasm, cpu);
  });

  it("UnsortedSegmentSum sums rows into their segments (repeats, an empty segment, a dropped id)", async () => {
    const xs = values(7 * 2 * 3, 5);
    const ids = [0, 2, 0, 1, 2, 4, 9];
    const { cpu, wasm, shape } = await onBoth(() => tf.unsortedSegmentSum(tf.tensor3d(xs, [7, 2, 3]), tf.tensor1d(ids, "int32"), 5));
    expect(shape).toEqual([5, 2, 3]);
    // segment 3 gets no row: zeros on both
    for (let j = 0; j < 6; j++) expect(wasm[3 * 6 + j]).toBe(0);
    expectClose(wasm, cpu, 1e-6);
  });
});
