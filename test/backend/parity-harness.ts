// Runs one computation on tfjs's cpu backend and on the torch backend with the same random
// inputs (and the same output gradient), and compares outputs and input gradients.
import * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";

import { Rng } from "../../src/util/rng.js";

export type Dtype = "float32" | "int32" | "bool";

export interface Input {
  shape: number[];
  dtype?: Dtype;
  /** Uniform range for float32 (default [-2, 2]) and int32 (default [-5, 5]) values. */
  low?: number;
  high?: number;
  /** Fixed values instead of random ones. */
  values?: number[];
}

export interface Case {
  name: string;
  inputs: Input[];
  fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
  /** Compare gradients of sum(out * dy) with respect to every float32 input (single-output fns). */
  grad?: boolean;
}

interface Result {
  shape: number[];
  dtype: string;
  values: Float32Array | Int32Array | Uint8Array;
}

function randomValues(input: Input, rng: Rng): Float32Array | Int32Array | Uint8Array {
  const size = input.shape.reduce((a, b) => a * b, 1);
  const dtype = input.dtype ?? "float32";
  if (input.values) {
    return dtype === "float32" ? Float32Array.from(input.values) : dtype === "int32" ? Int32Array.from(input.values) : Uint8Array.from(input.values);
  }
  if (dtype === "bool") return Uint8Array.from({ length: size }, () => rng.int(2));
  const low = input.low ?? (dtype === "int32" ? -5 : -2);
  const high = input.high ?? (dtype === "int32" ? 5 : 2);
  if (dtype === "int32") return Int32Array.from({ length: size }, () => low + rng.int(high - low + 1));
  return Float32Array.from({ length: size }, () => low + (high - low) * rng.next());
}

function read(t: tf.Tensor): Result {
  return { shape: t.shape, dtype: t.dtype, values: t.dataSync() as Result["values"] };
}

async function runOn(backend: string, c: Case, values: Result["values"][], dy?: Float32Array): Promise<{ outs: Result[]; grads: Result[] }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  let result: { outs: Result[]; grads: Result[] } = { outs: [], grads: [] };
  tf.tidy(() => {
    const xs = c.inputs.map((input, k) => tf.tensor(values[k], input.shape, input.dtype ?? "float32"));
    const out = c.fn(...xs);
    const outs = (Array.isArray(out) ? out : [out]).map(read);
    result = { outs, grads: [] };
    if (!c.grad || !dy) return;
    const floats = xs.map((x, k) => k).filter((k) => xs[k].dtype === "float32");
    const f = (...fs: tf.Tensor[]) => {
      const all = xs.slice();
      floats.forEach((k, j) => (all[k] = fs[j]));
      return c.fn(...all) as tf.Tensor;
    };
    const first = Array.isArray(out) ? out[0] : out;
    const grads = tf.grads(f)(floats.map((k) => xs[k]), tf.tensor(dy, first.shape));
    result = { outs, grads: grads.map(read) };
  });
  expect(tf.memory().numTensors, `${c.name} on ${backend}: tensors leaked`).toBe(before);
  return result;
}

/** ‖a − b‖∞ / max(‖b‖∞, 1e-3): relative to the reference's scale (elementwise relative error blows up near 0). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1e-3;
  for (let i = 0; i < b.length; i++) {
    if (Number.isNaN(b[i]) && Number.isNaN(a[i])) continue;
    if (Number.isNaN(b[i]) !== Number.isNaN(a[i])) return Infinity;
    if (!Number.isFinite(b[i])) {
      if (a[i] !== b[i]) return Infinity;
      continue;
    }
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

function compare(label: string, actual: Result, expected: Result, tol: number): void {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  expect(actual.dtype, `${label}: dtype`).toBe(expected.dtype);
  if (expected.dtype !== "float32") {
    expect(Array.from(actual.values), `${label}: values`).toEqual(Array.from(expected.values));
    return;
  }
  const err = relativeError(actual.values, expected.values);
  expect(err, `${label}: relative error ${err} (torch ${actual.values.slice(0, 6)} vs cpu ${expected.values.slice(0, 6)})`).toBeLessThanOrEqual(tol);
}

/** Runs a case on cpu and torch (in that order) and compares forward and gradients within `tol`. */
export async function checkParity(c: Case, seed: number, tol = 1e-4): Promise<void> {
  const rng = new Rng(seed);
  const values = c.inputs.map((input) => randomValues(input, rng));
  const probe = await runOn("cpu", { ...c, grad: false }, values);
  const dy = c.grad ? Float32Array.from({ length: probe.outs[0].values.length }, () => rng.normal()) : undefined;
  const expected = c.grad ? await runOn("cpu", c, values, dy) : probe;
  const actual = await runOn("torch", c, values, dy);
  expect(actual.outs.length, `${c.name}: number of outputs`).toBe(expected.outs.length);
  expected.outs.forEach((e, k) => compare(`${c.name} output ${k}`, actual.outs[k], e, tol));
  expect(actual.grads.length, `${c.name}: number of gradients`).toBe(expected.grads.length);
  expected.grads.forEach((e, k) => compare(`${c.name} gradient ${k}`, actual.grads[k], e, tol));
}
