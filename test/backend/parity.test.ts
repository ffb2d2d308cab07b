// Every native kernel of the torch backend against tfjs's cpu backend (forward and gradients,
// relative error ≤ 1e-4 in float32). Skipped without the addon (`npm run build:native`).
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { fallbackCounts, nativeKernelNames, resetFallbackCounts, useBackend } from "../../src/backend/index.js";
import { parityCases } from "./parity-cases.js";
import { checkParity } from "./parity-harness.js";
import { missing } from "../support/requires.js";

tf.env().set("PROD", true);
const used = new Set<string>();

const noAddon = missing("addon");

beforeAll(async () => {
  if (noAddon) return;
  await useBackend("torch");
  // Record which native kernels the cases reach.
  for (const name of nativeKernelNames()) {
    const config = tf.getKernel(name, "torch");
    tf.unregisterKernel(name, "torch");
    tf.registerKernel({ ...config, kernelFunc: (args) => (used.add(name), config.kernelFunc(args)) });
  }
  resetFallbackCounts();
});

afterAll(async () => {
  await tf.setBackend("cpu");
});

describe.skipIf(noAddon)("torch backend parity with cpu", () => {
  parityCases.forEach((c, k) => {
    it(c.name, async () => {
      await checkParity(c, 1000 + k);
    });
  });

  it("reaches every native kernel and never falls back to the cpu", () => {
    // SdfnDropoutMask is random with no cpu twin: test/backend/dropout-mask.test.ts checks it
    const ownTest = new Set(["SdfnDropoutMask"]);
    const unreached = nativeKernelNames().filter((n) => !used.has(n) && !ownTest.has(n));
    expect(unreached).toEqual([]);
    expect(fallbackCounts()).toEqual({});
  });
});
