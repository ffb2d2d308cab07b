// The memory estimate (src/graph/estimate.ts): parameters counted without allocating equal the
// built networks' (exactly), the activation model is within 2× of the tensor bytes one tfjs
// training step measures, and validate/build refuse a recipe too large for the machine (or for
// training.max_memory) at the key to change, in well under a second.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { estimateMemory, formatBytes, parseSize } from "../../src/graph/estimate.js";
import { inference } from "../../src/nn/context.js";
import { loadRecipe } from "../../src/recipe/index.js";
import { openSession } from "../../src/run/session.js";
import { ROOT, sdfn } from "../support/cli.js";

const QUICKSTART = join(ROOT, "recipes/quickstart.yaml");
const TINY = join(ROOT, "test/train/fixtures/tiny.yaml");
const VOCABULARY = { size: 37, words: Array.from({ length: 37 }, (_, i) => `w${i}`) };

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

/** The network's parameter count as built (losses' own parameters aside: they are not the network's). */
async function builtCount(file: string, sets: string[]) {
  const loaded = await loadRecipe(file, { sets });
  const session = await openSession(loaded, { vocabulary: VOCABULARY, dataset: false });
  try {
    let n = 0;
    for (const [name, v] of session.network.store.variables) if (!name.startsWith("losses.")) n += v.size;
    return { loaded, session, n };
  } catch (err) {
    session.dispose();
    throw err;
  }
}

describe("parameters: the estimate counts exactly what the network builds", () => {
  it.each([
    ["quickstart", QUICKSTART, []],
    ["tiny (2 layers, JRM/CAM/GTM/RCM, msr)", TINY, []],
    ["resnet18 + bilstm, shared router, 3 layers", TINY, ["encoders.image={type: resnet18, dim: 16}", "encoders.text={type: bilstm, hidden: 12, embedding_dim: 8}", "fusion.router={type: shared}", "fusion.layers=3"]],
    ["gru, static router, one layer", TINY, ["encoders.text={type: gru, hidden: 16, embedding_dim: 4}", "fusion.router={type: static}", "fusion.layers=1"]],
  ])("%s", async (_, file, sets) => {
    const { loaded, session, n } = await builtCount(file as string, sets as string[]);
    try {
      const e = estimateMemory(loaded.recipe, loaded.registry, VOCABULARY.size);
      expect(e.parameters.total).toBe(n);
      expect(e.parameterBytes).toBe(n * 16); // weights, gradients, Adam's m and v in float32
    } finally {
      session.dispose();
    }
  });
});

describe("activations: within 2× of what one training step keeps, measured", () => {
  it.each([
    ["quickstart at batch 16", QUICKSTART, ["training.batch_size=16"]],
    ["tiny at batch 8, 32 px", TINY, ["data.image_size=32"]],
  ])("%s", async (_, file, sets) => {
    const { loaded, session, n } = await builtCount(file, sets);
    try {
      const b = loaded.recipe.training.batch_size;
      const size = loaded.recipe.data.image_size as number;
      const images = tf.randomNormal([b, size, size, 3]) as tf.Tensor4D;
      const targets = tf.randomNormal([b, size, size, 3]) as tf.Tensor4D;
      const tokens = tf.tensor2d(Array.from({ length: b * 12 }, (_, i) => 2 + (i % 30)), [b, 12], "int32");
      const mask = tf.ones([b, 12]) as tf.Tensor2D;
      const fc = { ...inference, training: true };
      const variables = session.network.store.trainable().filter((v) => !v.name.startsWith("losses."));
      const before = tf.memory().numBytes;
      // tf.profile's peak: every tensor alive at once during the forward and the gradients.
      const profile = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => {
          const q = session.network.encodeQuery({ reference: images, tokens, mask }, fc).query;
          const t = session.network.encodeTarget(targets, fc);
          return tf.sum(tf.mul(q, t)) as tf.Scalar;
        }, variables);
        tf.dispose([value, ...Object.values(grads)]);
      });
      const measured = profile.peakBytes - before; // activations + gradients
      const e = estimateMemory(loaded.recipe, loaded.registry, VOCABULARY.size);
      const estimated = e.activationBytes + n * 4;
      expect(estimated / measured, `estimated ${formatBytes(estimated)}, measured ${formatBytes(measured)}`).toBeGreaterThan(0.5);
      expect(estimated / measured, `estimated ${formatBytes(estimated)}, measured ${formatBytes(measured)}`).toBeLessThan(2);
      tf.dispose([images, targets, tokens, mask]);
    } finally {
      session.dispose();
    }
  });
});

describe("validate and build refuse a recipe over the memory budget", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sdfn-estimate-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("fusion.layers: 100000 and a 1e8-unit LSTM: refused at the key, with the estimate, fast", async () => {
    const started = performance.now();
    const r = await sdfn("validate", QUICKSTART, "--set", "fusion.layers=100000");
    expect(performance.now() - started).toBeLessThan(1000);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^--set fusion\.layers=100000: error: the recipe needs about [\d.]+ (GiB|TiB) to train \(2\.5 G parameters: [\d.]+ GiB with gradients and Adam's moments; activations [\d.]+ (GiB|TiB) at batch 16\), more than this machine's memory \([\d.]+ GiB\); lower fusion\.layers \(the largest part\) or training\.batch_size, or set training\.max_memory to the memory of the machine it is for\n$/,
    );
    const hidden = await sdfn("validate", QUICKSTART, "--set", "encoders.text.hidden=100000000");
    expect(hidden.code).toBe(2);
    expect(hidden.err).toContain("lower encoders.text.hidden (the largest part)");
  });

  it("training.max_memory sets the budget (a GPU machine's, or a smaller one), at the line of the key to change", async () => {
    const small = await sdfn("validate", QUICKSTART, "--set", "training.max_memory=1MiB");
    expect(small.code).toBe(2);
    expect(small.err).toMatch(/^.*quickstart\.yaml:\d+:\d+: error: the recipe needs about [\d.]+ MiB to train .* more than training\.max_memory \(1MiB\); lower encoders\.image\.dim \(the largest part\) or training\.batch_size,/);
    expect((await sdfn("validate", QUICKSTART, "--set", "training.max_memory=1GiB")).code).toBe(0);
    expect((await sdfn("validate", QUICKSTART, "--set", "training.max_memory=lots")).err).toContain(
      'training.max_memory: "lots" is not allowed: it must match',
    );
    // A huge budget lets a large recipe validate on a small machine (it is for another one).
    expect((await sdfn("validate", QUICKSTART, "--set", "fusion.layers=1000", "--set", "training.max_memory=1TiB")).code).toBe(0);
  });

  it("build refuses before a run directory exists", async () => {
    const out = join(dir, "run");
    const r = await sdfn("build", QUICKSTART, "--set", "encoders.image.dim=1000000", "--out", out);
    expect(r.code).toBe(2);
    expect(r.err).toContain("lower encoders.image.dim (the largest part)");
    expect(existsSync(out)).toBe(false);
  });

  it("parses sizes", () => {
    expect(parseSize("24GiB")).toBe(24 * 2 ** 30);
    expect(parseSize("16 GB")).toBe(16e9);
    expect(parseSize("1.5MiB")).toBe(1.5 * 2 ** 20);
    expect(formatBytes(1536)).toBe("1.5 KiB");
  });
});
