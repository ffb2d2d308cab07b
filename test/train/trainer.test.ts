import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadRecipe } from "../../src/recipe/index.js";
import { createRegistry } from "../../src/builtins.js";
import { readSafetensors } from "../../src/io/safetensors.js";
import type { TrainEvent } from "../../src/train/events.js";
import { defineLoss } from "../../src/registry/define.js";
import { train, type RunSummary } from "../../src/run/train.js";

tf.env().set("IS_TEST", true);

const RECIPE = join(import.meta.dirname, "fixtures", "tiny.yaml");
const scratch = mkdtempSync(join(tmpdir(), "sdfn-trainer-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let runs = 0;

async function run(sets: string[] = [], opts: { resume?: string; abortAt?: (e: TrainEvent) => boolean; registry?: ReturnType<typeof createRegistry>; outDir?: string } = {}) {
  const loaded = await loadRecipe(RECIPE, { sets, registry: opts.registry });
  const events: TrainEvent[] = [];
  const controller = new AbortController();
  const outDir = opts.outDir ?? join(scratch, `run${runs++}`);
  const summary = await train(loaded, {
    outDir,
    resume: opts.resume,
    onEvent: (e) => {
      events.push(e);
      if (opts.abortAt?.(e)) controller.abort();
    },
    signal: controller.signal,
  });
  return { summary, events, outDir: opts.resume ?? outDir };
}

const weightsOf = (dir: string) => readSafetensors(join(dir, "checkpoints", "last", "weights.safetensors")).tensors;
const stepEvents = (events: TrainEvent[]) => events.filter((e): e is Extract<TrainEvent, { type: "step" }> => e.type === "step");

describe("trainer", () => {
  let first: { summary: RunSummary; events: TrainEvent[]; outDir: string };

  it("trains, evaluates and writes the run directory, emitting the event stream", async () => {
    first = await run();
    const { summary, events, outDir } = first;
    expect(summary.status).toBe("completed");
    expect(summary.epochs).toBe(2);
    expect(summary.steps).toBe(6); // 20 pairs / batch 8 → 2 full batches + one of 4, per epoch
    for (const f of ["recipe.resolved.yaml", "metrics.jsonl", "summary.json", "vocabulary.json", "checkpoints/last/weights.safetensors", "checkpoints/last/meta.json", "checkpoints/last/state.safetensors", "checkpoints/last/manifest.json", "checkpoints/best/weights.safetensors"]) {
      expect(existsSync(join(outDir, f)), f).toBe(true);
    }
    const onDisk = JSON.parse(readFileSync(join(outDir, "summary.json"), "utf8"));
    expect(Object.keys(onDisk.recall)).toEqual(["R@1", "R@5", "mean"]);
    expect(onDisk).toMatchObject({ epochs: 2, backend: "cpu" });
    expect(onDisk.samples_per_s).toBeGreaterThan(0);
    expect(onDisk.seconds).toBeGreaterThan(0);
    expect(readFileSync(join(outDir, "metrics.jsonl"), "utf8").trim().split("\n").length).toBe(events.length);

    expect(events[0]!.type).toBe("start");
    expect(events.at(-1)!.type).toBe("end");
    const types = new Set(events.map((e) => e.type));
    for (const t of ["step", "epoch", "evaluation", "checkpoint"]) expect(types.has(t as TrainEvent["type"])).toBe(true);
    const steps = stepEvents(events);
    expect(steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const s of steps) {
      expect(s.samplesPerSec).toBeGreaterThan(0);
      expect(s.routing).toHaveLength(2); // L = 2 rows of M = 4
      for (const row of s.routing) expect(row).toHaveLength(4);
      // output weights w sum to 1 over the modules; incoming weights average 1/M·M = 1 per sender row
      expect(s.routing[1]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(s.total).toBeCloseTo(Object.values(s.losses).reduce((a, b) => a + b, 0), 4);
    }
    // The live samples/s is the epoch's so far: at an epoch's last step it is the epoch's own figure.
    for (const e of events.filter((x): x is Extract<TrainEvent, { type: "epoch" }> => x.type === "epoch")) {
      expect(steps.filter((s) => s.epoch === e.epoch).at(-1)!.samplesPerSec).toBe(e.samplesPerSec);
    }
    // Path distillation: zero in the first epoch (no teacher yet), positive in the second.
    expect(steps.filter((s) => s.epoch === 0).every((s) => s.losses.path_distillation === 0)).toBe(true);
    expect(steps.filter((s) => s.epoch === 1).every((s) => s.losses.path_distillation! > 0)).toBe(true);
  });

  it("is deterministic: the same recipe on the same backend gives the same metrics and weights", async () => {
    const again = await run();
    expect(again.summary.metrics).toEqual(first.summary.metrics);
    expect(stepEvents(again.events).map((s) => s.total)).toEqual(stepEvents(first.events).map((s) => s.total));
    const a = weightsOf(first.outDir);
    const b = weightsOf(again.outDir);
    for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).toEqual(Array.from(a[name]!.data));
  });

  it("resumes exactly: interrupted in the second epoch and resumed equals training straight through", async () => {
    const stopped = await run([], { abortAt: (e) => e.type === "step" && e.epoch === 1 && e.epochStep === 0 });
    expect(stopped.summary.status).toBe("interrupted");
    const stop = stopped.events.find((e) => e.type === "stopped");
    expect(stop).toMatchObject({ reason: "interrupt" });
    expect((stop as { resumeCommand: string }).resumeCommand).toContain(`--resume ${stopped.outDir}`);
    expect(stopped.events.some((e) => e.type === "checkpoint" && e.reason === "interrupt")).toBe(true);

    const resumed = await run([], { resume: stopped.outDir });
    expect(resumed.summary.status).toBe("completed");
    expect(resumed.events[0]).toMatchObject({ type: "start", info: { startEpoch: 1 } });
    expect(stepEvents(resumed.events).map((s) => s.step)).toEqual([4, 5]);
    expect(stepEvents(resumed.events).map((s) => s.total)).toEqual(stepEvents(first.events).slice(4).map((s) => s.total));
    expect(resumed.summary.metrics).toEqual(first.summary.metrics);
    const a = weightsOf(first.outDir);
    const b = weightsOf(resumed.outDir);
    for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).toEqual(Array.from(a[name]!.data));
  });

  it("an interrupt on an epoch's last step finishes that epoch (evaluation, checkpoint), and the resume matches too", async () => {
    const stopped = await run([], { abortAt: (e) => e.type === "step" && e.epoch === 0 && e.epochStep === 2 });
    expect(stopped.summary.status).toBe("interrupted");
    const types = stopped.events.map((e) => e.type);
    expect(types.indexOf("evaluation")).toBeLessThan(types.indexOf("stopped"));
    expect(JSON.parse(readFileSync(join(stopped.outDir, "checkpoints", "last", "meta.json"), "utf8"))).toMatchObject({ format: 2, epoch: 2, epochStep: 0, step: 3 }); // meta.json numbers epochs from 1: resume at the start of epoch 2
    const resumed = await run([], { resume: stopped.outDir });
    expect(resumed.summary.metrics).toEqual(first.summary.metrics);
    expect(resumed.summary.best).toEqual(first.summary.best);
  });

  it("refuses to resume with a different recipe", async () => {
    await expect(run(["training.optimizer.lr=0.02"], { resume: first.outDir })).rejects.toThrow(/different recipe/);
  });

  it("keeps tf.memory().numTensors flat across steps", async () => {
    const counts: number[] = [];
    await run(["training.epochs=3", "losses.2.teacher=frozen"], {
      abortAt: (e) => {
        if (e.type === "step") counts.push(tf.memory().numTensors);
        return false;
      },
    });
    // epoch 1 (no teacher) and epochs 2–3 (frozen teacher network alive) each keep one count
    expect(new Set(counts.slice(0, 3)).size).toBe(1);
    expect(new Set(counts.slice(3)).size).toBe(1);
  });

  it("computes no gradient for a backbone frozen by backbone_lr_mult: 0 (its weights stay as initialised)", async () => {
    const { outDir, events } = await run(["training.epochs=1", "training.optimizer.backbone_lr_mult=0"]);
    expect(events[0]).toMatchObject({ type: "start" });
    const trained = weightsOf(outDir);
    // the same seed compiles the same initial weights
    const { compileNetwork } = await import("../../src/graph/compile.js");
    const loaded = await loadRecipe(RECIPE);
    const vocab = JSON.parse(readFileSync(join(outDir, "vocabulary.json"), "utf8"));
    const { vocabularyFromJSON } = await import("../../src/data/vocabulary.js");
    const net = compileNetwork(loaded.recipe, loaded.registry, { vocabulary: vocabularyFromJSON(vocab), filesDir: "." });
    const conv = "image.backbone.stages.0.0.weight";
    expect(Array.from(trained[conv]!.data)).toEqual(Array.from(net.store.variables.get(conv)!.dataSync()));
    expect(Array.from(trained["image.proj.weight"]!.data)).not.toEqual(Array.from(net.store.variables.get("image.proj.weight")!.dataSync()));
    net.dispose();
  });

  it("trains with a frozen-weights teacher: distillation is zero in epoch 1, then positive", async () => {
    const { events } = await run(["losses.2.teacher=frozen"]);
    const steps = stepEvents(events);
    expect(steps.filter((s) => s.epoch === 0).every((s) => s.losses.path_distillation === 0)).toBe(true);
    expect(steps.filter((s) => s.epoch === 1).every((s) => s.losses.path_distillation! > 0)).toBe(true);
  });

  it("stops on a non-finite loss with a clear message and keeps the last good checkpoint", async () => {
    let calls = 0;
    const registry = createRegistry();
    registry.register(
      "loss",
      defineLoss({
        name: "test/explode",
        doc: "NaN from the fifth step on",
        params: z.object({ weight: z.number().default(1).describe("weight") }),
        build: (p) => ({ weight: p.weight, compute: () => (++calls >= 5 ? tf.scalar(NaN) : tf.scalar(0)) }),
      }),
    );
    const sets = ["losses=[{type: batch_classification}, {type: path_distillation}, {type: test/explode}]"];
    const { summary, events, outDir } = await run(sets, { registry });
    expect(summary.status).toBe("non-finite-loss");
    const stop = events.find((e) => e.type === "stopped");
    expect(stop).toMatchObject({ reason: "non-finite-loss" });
    expect((stop as { message: string }).message).toMatch(/loss "test\/explode" became NaN at epoch 2, step 4/);
    expect((stop as { message: string }).message).toContain(`The last good checkpoint is ${join(outDir, "checkpoints", "last")} (from before the failing step)`);
    expect((stop as { message: string }).message).toMatch(/Start a new run with a lower learning rate \(--set training.optimizer.lr=5\.0e-4\)/);
    const meta = JSON.parse(readFileSync(join(outDir, "checkpoints", "last", "meta.json"), "utf8"));
    expect(meta).toMatchObject({ format: 2, epoch: 2, epochStep: 0, step: 3 }); // the end of epoch 1, the last good one (resume at epoch 2)
    expect(stepEvents(events).map((s) => s.step)).toEqual([0, 1, 2, 3]);
  });
});

describe("trainer with a frozen backbone and data.feature_cache", () => {
  it("trains on cached feature maps exactly as on pixels (and refuses a backbone that trains)", async () => {
    const frozen = ["encoders.image={type: resnet18, dim: 8, freeze: all}", "data.image_size=16", "training.epochs=2"];
    const plain = await run(frozen);
    const cacheDir = join(scratch, "features");
    const cached = await run([...frozen, `data.feature_cache=${cacheDir}`]);
    expect(existsSync(cacheDir)).toBe(true);
    expect(cached.summary.metrics).toEqual(plain.summary.metrics);
    expect(stepEvents(cached.events).map((s) => s.total)).toEqual(stepEvents(plain.events).map((s) => s.total));
    // and a resume in the middle of an epoch skips the trained batches of the cached source
    const withCache = [...frozen, `data.feature_cache=${cacheDir}`];
    const stopped = await run(withCache, { abortAt: (e) => e.type === "step" && e.epoch === 1 && e.epochStep === 0 });
    const resumed = await run(withCache, { resume: stopped.outDir });
    expect(resumed.summary.metrics).toEqual(plain.summary.metrics);
    await expect(run([`data.feature_cache=${cacheDir}`])).rejects.toThrow(/no frozen backbone/);
  });
});
