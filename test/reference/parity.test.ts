// Numerical parity with the PyTorch reference (bench/reference): sdfn exports its weights,
// a seeded batch and every output; Debian's /usr/bin/python3 + torch loads them, runs the
// same batch and must agree to 1e-4 relative on embeddings, paths and losses.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { exportParity, type ExchangeFiles } from "../../bench/reference/exchange.js";
import { readSafetensors, writeSafetensors } from "../../src/io/safetensors.js";
import { loadRecipe } from "../../src/recipe/index.js";

tf.env().set("IS_TEST", true);

const ROOT = resolve(import.meta.dirname, "../..");
const CHECK = join(ROOT, "bench/reference/check.py");
const work = mkdtempSync(join(tmpdir(), "sdfn-parity-"));
afterAll(() => process.env.KEEP_PARITY || rmSync(work, { recursive: true, force: true }));

function python(args: string[]) {
  const r = spawnSync("/usr/bin/python3", args, {
    encoding: "utf8",
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", OMP_NUM_THREADS: "1" },
  });
  if (r.error) throw new Error(`/usr/bin/python3 did not start (${r.error.message}); install python3-torch python3-numpy`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const check = (files: ExchangeFiles, weights = files.weights) =>
  python([CHECK, "--weights", weights, "--batch", files.batch, "--recipe", files.recipe]);

const header = (image: string, text: string, fusion: string, losses: string) =>
  [
    "version: 1",
    "name: parity",
    "seed: 3",
    "data: { dataset: shapes }",
    "encoders:",
    `  image: ${image}`,
    `  text: ${text}`,
    `fusion: ${fusion}`,
    `losses: ${losses}`,
    "training: { epochs: 1, batch_size: 3 }",
    "",
  ].join("\n");

const ALL_LOSSES =
  "[{ type: batch_classification, weight: 1 }, { type: consistency, weight: 0.5 }, { type: path_distillation, weight: 2, temperature: 2 }]";

const CASES = [
  {
    name: "the paper's architecture at tiny size (resnet18, 32 px, d 16, lstm, 3 layers × JRM/CAM/GTM/RCM, msr mean)",
    yaml: header(
      "{ type: resnet18, dim: 16 }",
      "{ type: lstm, hidden: 16, embedding_dim: 8 }",
      "{ layers: 3, modules: [{ type: JRM, heads: 2 }, { type: CAM, heads: 4 }, { type: GTM }, { type: RCM }], router: { type: msr, combine: mean, hidden: 8 } }",
      ALL_LOSSES,
    ),
    shape: { batch: 3, imageSize: 32, channels: 3, textLength: 5, seed: 11 },
  },
  {
    name: "2 layers × CAM/GTM/CAM with the shared router (small_cnn, bilstm, l2 consistency)",
    yaml: header(
      "{ type: small_cnn, dim: 16, channels: [8, 16] }",
      "{ type: bilstm, hidden: 12, embedding_dim: 8 }",
      "{ layers: 2, modules: [{ type: CAM, heads: 2 }, { type: GTM }, { type: CAM, heads: 1 }], router: { type: shared, hidden: 8 } }",
      "[{ type: batch_classification, weight: 1 }, { type: consistency, weight: 1, distance: l2 }, { type: path_distillation, weight: 1 }]",
    ),
    shape: { batch: 3, imageSize: 24, channels: 3, textLength: 6, seed: 12 },
  },
  {
    name: "precomputed features, gru, msr product with linear routers",
    yaml: header(
      "{ type: features, dim: 8, channels: 12 }",
      "{ type: gru, hidden: 8, embedding_dim: 6 }",
      "{ layers: 2, modules: [{ type: JRM, heads: 2 }, { type: RCM }, { type: GTM }], router: { type: msr, combine: product, hidden: 0 } }",
      ALL_LOSSES,
    ),
    shape: { batch: 4, imageSize: 3, channels: 12, textLength: 4, seed: 13 },
  },
  {
    name: "msr with a learned gate, 4 layers × GTM/CAM/RCM (features, lstm)",
    yaml: header(
      "{ type: features, dim: 8, channels: 6 }",
      "{ type: lstm, hidden: 8, embedding_dim: 6 }",
      "{ layers: 4, modules: [{ type: GTM }, { type: CAM, heads: 2 }, { type: RCM }], router: { type: msr, combine: gate, hidden: 4 } }",
      ALL_LOSSES,
    ),
    shape: { batch: 3, imageSize: 2, channels: 6, textLength: 5, seed: 14 },
  },
  {
    name: "the static router, one layer of JRM/GTM (features, bilstm, no distillation)",
    yaml: header(
      "{ type: features, dim: 8, channels: 5 }",
      "{ type: bilstm, hidden: 4, embedding_dim: 6 }",
      "{ layers: 1, modules: [{ type: JRM, heads: 2 }, { type: GTM }], router: { type: static } }",
      "[{ type: batch_classification, weight: 1 }, { type: consistency, weight: 1 }]",
    ),
    shape: { batch: 3, imageSize: 3, channels: 5, textLength: 4, seed: 15 },
  },
];

describe("parity with the PyTorch reference", () => {
  const exported: ExchangeFiles[] = [];

  for (const [i, c] of CASES.entries()) {
    it(`agrees to 1e-4: ${c.name}`, async () => {
      const dir = join(work, `case${i}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirp(dir);
      writeFileSync(join(dir, "recipe.yaml"), c.yaml);
      const files = await exportParity(await loadRecipe(join(dir, "recipe.yaml")), dir, c.shape);
      exported.push(files);
      const r = check(files);
      expect(r.output, r.output).toMatch(/outputs agree/);
      expect(r.status, r.output).toBe(0);
    });
  }

  it("fails, naming the outputs, when one sdfn weight is off by 1%", async () => {
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

  it("rejects a weights file with a missing tensor, naming it", async () => {
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

describe("the reference on its own", () => {
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
    mkdirp(dir);
    writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
    const r = python([join(ROOT, "bench/reference/selftest.py"), join(dir, "spec.json"), dir]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/round trip ok; perturbing image\.proj\.weight flagged [1-9]/);
  });
});

const mkdirp = (dir: string) => mkdirSync(dir, { recursive: true });
