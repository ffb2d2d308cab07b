// The torch backend's storage and data movement, the cpu fallback, backend selection, and a
// full SDFN training step (tiny quickstart recipe) that must use no cpu fallback.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { backendStatus, fallbackCounts, resetFallbackCounts, useBackend } from "../../src/backend/index.js";
import { loadRecipe } from "../../src/recipe/index.js";
import { train } from "../../src/run/train.js";
import { missing } from "../support/requires.js";

tf.env().set("PROD", true);

// Every suite here runs on the native addon.
const noAddon = missing("addon");

beforeAll(async () => {
  if (!noAddon) await useBackend("torch");
});

afterAll(async () => {
  await tf.setBackend("cpu");
});

describe.skipIf(noAddon)("torch backend storage", () => {
  it("round-trips float32, int32 and bool values and keeps strings in JS", async () => {
    await tf.setBackend("torch");
    const f = tf.tensor([1.5, -2, 3e-8], [3]);
    const i = tf.tensor([[1, -2], [2147483647, 0]], [2, 2], "int32");
    const b = tf.tensor([true, false, true], [3], "bool");
    const s = tf.tensor(["a", "bc"]);
    expect(Array.from(f.dataSync())).toEqual([1.5, -2, Math.fround(3e-8)]);
    expect(i.arraySync()).toEqual([[1, -2], [2147483647, 0]]);
    expect(b.dataSync()).toBeInstanceOf(Uint8Array);
    expect(Array.from(await b.data())).toEqual([1, 0, 1]);
    expect(s.arraySync()).toEqual(["a", "bc"]);
    tf.dispose([f, i, b, s]);
  });

  it("frees native tensors with their data ids (views, shared ids and variables included)", async () => {
    await tf.setBackend("torch");
    const backend = tf.backend();
    const handles = () => (backend.memory() as { nativeHandles?: number }).nativeHandles;
    const before = { ids: backend.numDataIds(), handles: handles(), tensors: tf.memory().numTensors };
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const v = tf.variable(x); // shares x's data id (refCount 2)
    tf.tidy(() => {
      const y = x.transpose().reshape([4]).slice(1, 2).clone(); // views and an Identity
      expect(Array.from(y.dataSync())).toEqual([3, 2]);
    });
    expect(backend.numDataIds()).toBe(before.ids + 1);
    x.dispose();
    expect(v.arraySync()).toEqual([[1, 2], [3, 4]]);
    const doubled = tf.tidy(() => v.mul(2)) as tf.Tensor2D;
    v.assign(doubled); // the variable now shares doubled's data id
    expect(v.arraySync()).toEqual([[2, 4], [6, 8]]);
    v.dispose();
    doubled.dispose();
    expect(backend.numDataIds()).toBe(before.ids);
    expect(handles()).toBe(before.handles);
    expect(tf.memory().numTensors).toBe(before.tensors);
  });

  it("moves tensors created on the cpu backend when a torch kernel uses them", async () => {
    await tf.setBackend("cpu");
    const a = tf.tensor1d([1, 2, 3]);
    await tf.setBackend("torch");
    const b = tf.add(a, 1);
    expect(Array.from(b.dataSync())).toEqual([2, 3, 4]);
    tf.dispose([a, b]);
  });
});

describe.skipIf(noAddon)("cpu fallback", () => {
  it("runs a kernel without a native implementation on the cpu backend, counts it and warns once", async () => {
    const pixels = Float32Array.from({ length: 2 * 4 * 4 * 3 }, (_, k) => Math.sin(k));
    await tf.setBackend("cpu");
    // FlipLeftRight has no native twin (ResizeBilinear, the example before, has one now)
    const expected = tf.tidy(() => tf.image.flipLeftRight(tf.tensor4d(pixels, [2, 4, 4, 3])).dataSync());
    await tf.setBackend("torch");
    resetFallbackCounts();
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => {
      if (w.code === "SDFN_TORCH_FALLBACK") warnings.push(w.message);
    };
    process.on("warning", onWarning);
    const actual = tf.tidy(() => {
      const x = tf.tensor4d(pixels, [2, 4, 4, 3]);
      tf.image.flipLeftRight(x);
      return tf.image.flipLeftRight(x).dataSync();
    });
    await new Promise((r) => setTimeout(r, 10)); // warnings are emitted on the next tick
    process.off("warning", onWarning);
    expect(fallbackCounts()).toEqual({ FlipLeftRight: 2 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/FlipLeftRight .*cpu backend/);
    Array.from(actual).forEach((v, k) => expect(v).toBeCloseTo(expected[k], 5));
  });
});

describe.skipIf(noAddon)("optimizers on torch", () => {
  it("an Adam step matches the cpu backend", async () => {
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const w = tf.variable(tf.tensor2d([[0.5, -1], [2, 0.25]]), true, `adam-${backend}`);
      const x = tf.tensor2d([[1, 2], [3, -1]]);
      const opt = tf.train.adam(0.1);
      for (let k = 0; k < 3; k++) opt.minimize(() => tf.sum(tf.square(tf.matMul(x, w))) as tf.Scalar);
      const out = w.dataSync().slice();
      tf.dispose([w, x]);
      opt.dispose();
      return out;
    };
    const expected = await run("cpu");
    const actual = await run("torch");
    Array.from(actual).forEach((v, k) => expect(v).toBeCloseTo(expected[k], 5));
  });
});

describe.skipIf(noAddon)("choosing a backend", () => {
  it("reports each backend with availability and a reason when unavailable", async () => {
    const status = await backendStatus();
    expect(status.map((s) => s.name)).toEqual(["cpu", "torch", "tensorflow", "wasm", "webgpu"]);
    expect(status.find((s) => s.name === "torch")).toMatchObject({ available: true });
    expect(status.find((s) => s.name === "wasm")).toMatchObject({ available: true });
    for (const s of status) expect(s.available || (s.why ?? "").length > 10).toBe(true);
  });

  it("auto picks torch here, and an unknown name lists the valid ones", async () => {
    expect(await useBackend("auto")).toEqual({ name: "torch", device: "cpu" });
    expect(tf.getBackend()).toBe("torch");
    await expect(useBackend("tpu")).rejects.toThrow(/unknown backend "tpu": expected one of auto, cpu, torch, wasm, tensorflow, webgpu/);
  });
});

describe.skipIf(noAddon)("SDFN training on torch", () => {
  // The quickstart network (small CNN) and the same with a ResNet-18 image encoder.
  const variants: [string, string[]][] = [
    ["small_cnn", []],
    ["resnet18", ["encoders.image={type: resnet18, dim: 64}"]],
  ];
  it.each(variants)("trains a tiny quickstart recipe (%s) end to end (2 steps + evaluation) without any cpu fallback", async (_, extra) => {
    await useBackend("torch");
    resetFallbackCounts();
    const before = tf.memory().numTensors;
    const loaded = await loadRecipe(join(import.meta.dirname, "../../recipes/quickstart.yaml"), {
      sets: [
        ...extra,
        "data.train_pairs=16", "data.test_references=4", "data.test_edits=4", "data.test_queries=8", "evaluation.recall_at=[1, 5]",
        "training.epochs=1", "training.batch_size=4", "training.max_steps_per_epoch=2", "evaluation.batch_size=8",
      ],
    });
    const dir = mkdtempSync(join(tmpdir(), "sdfn-torch-"));
    try {
      const summary = await train(loaded, { outDir: dir, backend: "torch", device: "cpu", onEvent: () => {} });
      expect(summary.status).toBe("completed");
      expect(summary.steps).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(fallbackCounts()).toEqual({});
    expect(tf.memory().numTensors).toBe(before);
  });
});
