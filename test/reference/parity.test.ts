// Numerical parity with the PyTorch reference (bench/reference): sdfn exports its weights,
// a seeded batch, every output and every gradient; Debian's python3 + torch (PYTHON) loads
// them, runs the same batch in float64 and must agree to 1e-4 relative on embeddings, paths,
// losses and the gradient of the total loss for every trainable variable. A gradient may differ
// only where a knife edge (a ReLU input or a max's runner-up within float32's rounding error of
// the kink, bench/reference/kinks.py) took the other side; check.py names each such edge.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import type { ExchangeFiles } from "../../bench/reference/exchange.js";
import { readSafetensors, writeSafetensors } from "../../src/io/safetensors.js";
import { CASES, check, exportCase, python, ROOT } from "./cases.js";
import { missing } from "../support/requires.js";

tf.env().set("IS_TEST", true);

const work = mkdtempSync(join(tmpdir(), "sdfn-parity-"));
afterAll(() => process.env.KEEP_PARITY || rmSync(work, { recursive: true, force: true }));

describe.skipIf(missing("pythonTorch"))("parity with the PyTorch reference (cpu backend)", () => {
  const exported: ExchangeFiles[] = [];

  for (const [i, c] of CASES.entries()) {
    it(`agrees to 1e-4: ${c.name}`, async () => {
      const files = await exportCase(c, join(work, `case${i}`));
      exported.push(files);
      const r = check(files);
      expect(r.output, r.output).toMatch(/outputs agree/);
      expect(r.output, r.output).toMatch(/ok  grad\.text\.(embedding|backbone\.token_embedding)\.weight/); // gradients are compared too
      if (c.training) expect(r.output, r.output).toMatch(/ok  state\.image\.backbone\.stages\.0\.1\.running_var/);
      expect(r.status, r.output).toBe(0);
    });
  }

  it("fails, naming the outputs, when one sdfn weight is off by 1%", () => {
    const files = exported[0]!;
    const weights = readSafetensors(files.weights).tensors;
    const name = "fusion.layers.0.modules.0.ffn.fc1.weight"; // JRM's FFN in the first layer
    const t = weights[name]!;
    weights[name] = { ...t, data: Float32Array.from(t.data as Float32Array, (v) => v * 1.01) };
    const bad = join(work, "perturbed.safetensors");
    writeSafetensors(bad, weights);
    const r = check(files, bad);
    expect(r.status, r.output).toBe(1);
    expect(r.output).toMatch(/BAD query/);
    expect(r.output).toMatch(/ok  target/); // the image encoder is untouched
  });

  it("accepts gradients moved only by a knife edge's side, naming the edge, and still fails a gradient 1% off", () => {
    // the small_cnn case: a ReLU knife edge there moves a gradient by 1.5e-3, and its float64 passes take a second
    const small = CASES.findIndex((c) => c.name.startsWith("2 layers × CAM/GTM/CAM with the shared router"));
    const r = python([join(ROOT, "bench/reference/kinks_selftest.py"), dirname(exported[small]!.weights)]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/a knife edge flipped \(gradients moved by \S+\) was accepted, naming it; grad\.\S+ 1 % off was flagged/);
  });

  it("rejects a weights file with a missing tensor, naming it", () => {
    const files = exported[0]!;
    const weights = readSafetensors(files.weights).tensors;
    const name = Object.keys(weights).find((k) => k.startsWith("text."))!;
    delete weights[name];
    const bad = join(work, "missing.safetensors");
    writeSafetensors(bad, weights);
    const r = check(files, bad);
    expect(r.status, r.output).toBe(2);
    expect(r.output).toContain(`missing: sdfn has no '${name}'`);
  });
});

describe.skipIf(missing("pythonTorch"))("the reference on its own", () => {
  it("round-trips its weights through sdfn's names and layouts and notices a perturbed one", () => {
    const spec = {
      vocab_size: 20,
      recipe: {
        encoders: { image: { type: "small_cnn", dim: 8, channels: [4, 8] }, text: { type: "lstm", hidden: 8, embedding_dim: 4 } },
        fusion: { layers: 2, modules: [{ type: "JRM", heads: 2 }, { type: "CAM", heads: 2 }, { type: "GTM" }], router: { type: "msr", combine: "gate" } },
        losses: [{ type: "batch_classification" }, { type: "consistency" }],
      },
      image_size: 16,
    };
    const dir = join(work, "self");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
    const r = python([join(ROOT, "bench/reference/selftest.py"), join(dir, "spec.json"), dir]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/round trip ok; perturbing image\.proj\.weight flagged [1-9]/);
  });
});
