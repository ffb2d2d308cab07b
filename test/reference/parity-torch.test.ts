// The same parity with the PyTorch reference, with sdfn on its native libtorch backend
// (src/backend/torch): its kernels and gradients against PyTorch's. Its own process (a
// vitest file), so switching the global tfjs backend touches no other test.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../../src/backend/index.js";
import { missing } from "../support/requires.js";
import { CASES, check, exportCase } from "./cases.js";

// PROD, not IS_TEST: under IS_TEST tfjs counts tensors made inside a customGrad forward as a
// kernel leak, and batchNormTrain on torch keeps its batch moments that way (reported to the
// backend's owner); PROD also silences the banner.
tf.env().set("PROD", true);

const work = mkdtempSync(join(tmpdir(), "sdfn-parity-torch-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(missing("addon", "pythonTorch"))("parity with the PyTorch reference (torch backend)", () => {
  beforeAll(async () => {
    expect((await useBackend("torch")).name).toBe("torch");
  });

  // resnet18, small_cnn/bilstm/shared, batch norm in training mode, and CLIP's towers with the peers' Combiner
  for (const [i, c] of [CASES[0]!, CASES[1]!, CASES.find((c) => c.training)!, CASES.find((c) => c.name.startsWith("SDFN on CLIP"))!, CASES.find((c) => c.name.startsWith("CLIP's modified ResNet"))!].entries()) {
    it(`agrees to 1e-4: ${c.name}`, async () => {
      const files = await exportCase(c, join(work, `case${i}`));
      const r = check(files);
      expect(r.output, r.output).toMatch(/outputs agree/);
      expect(r.status, r.output).toBe(0);
      expect(tf.getBackend()).toBe("torch");
    });
  }
});
