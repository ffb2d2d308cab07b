// The torch backend's native dropout mask (SdfnDropoutMask): it has no cpu twin to compare with
// (tfjs's cpu dropout draws other numbers), so its contract is checked directly: entries are 0 or
// 1/(1-rate), about `rate` of them are 0, and reseeding the step generator replays the same mask.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { useBackend } from "../../src/backend/index.js";
import type { TorchBackend } from "../../src/backend/torch/backend.js";
import { missing } from "../support/requires.js";

tf.env().set("PROD", true);
const noAddon = missing("addon");

beforeAll(async () => {
  if (!noAddon) await useBackend("torch");
});
afterAll(async () => {
  await tf.setBackend("cpu");
});

function mask(shape: number[], rate: number): Float32Array {
  const m = tf.engine().runKernel("SdfnDropoutMask", {}, { shape, rate }) as tf.Tensor;
  const values = m.dataSync() as Float32Array;
  m.dispose();
  return values;
}

const seed = (s: number) => (tf.backend() as TorchBackend).native.addon.seedStep(s);

describe.skipIf(noAddon)("SdfnDropoutMask (torch)", () => {
  it("keeps 1/(1-rate) or drops, at the rate asked for", () => {
    seed(7);
    const rate = 0.25;
    const values = mask([64, 128], rate);
    expect(values.length).toBe(64 * 128);
    const keep = 1 / (1 - rate);
    expect(values.every((v) => v === 0 || Math.abs(v - keep) < 1e-6)).toBe(true);
    const dropped = values.filter((v) => v === 0).length / values.length;
    // 8192 Bernoulli(0.25) draws: the standard deviation of the fraction is 0.0048; 5σ bounds
    expect(Math.abs(dropped - rate)).toBeLessThan(0.024);
  });

  it("draws the same mask after the same seed, and another after the next draw or another seed", () => {
    seed(11);
    const first = mask([32, 32], 0.5);
    const next = mask([32, 32], 0.5);
    seed(11);
    expect(mask([32, 32], 0.5)).toEqual(first);
    expect(next).not.toEqual(first);
    seed(12);
    expect(mask([32, 32], 0.5)).not.toEqual(first);
  });
});
