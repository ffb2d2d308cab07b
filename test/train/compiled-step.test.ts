// training.compile on the torch backend: replayed steps against eager ones on the same seeds
// (cosine schedule, dropout, the distillation teacher from epoch 2, gradient clipping, a short
// last batch, across epoch boundaries), the finite-loss guard, exact resume, no native leak over
// 100 replays, and the eager fallback of a step that cannot be replayed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { useBackend } from "../../src/backend/index.js";
import type { TorchBackend } from "../../src/backend/torch/backend.js";
import { readSafetensors } from "../../src/io/safetensors.js";
import type { ForwardContext } from "../../src/nn/context.js";
import { loadRecipe } from "../../src/recipe/index.js";
import { RunDir } from "../../src/run/run-dir.js";
import { openSession, type Session } from "../../src/run/session.js";
import { train } from "../../src/run/train.js";
import { CompiledSteps } from "../../src/train/compiled-step.js";
import type { TrainEvent } from "../../src/train/events.js";
import { PathCache } from "../../src/train/path-cache.js";
import { stepSetup, trainStep, type StepSetup, type StepTeacher, type TrainableNetwork } from "../../src/train/step.js";
import { cacheTeacher } from "../../src/train/teacher.js";
import { missing } from "../support/requires.js";

tf.env().set("PROD", true);

const RECIPE = join(import.meta.dirname, "fixtures", "tiny.yaml");
// 44 pairs in batches of 8: five full batches and a short one of 4 per epoch; 4 epochs = 24 steps.
const SETS = ["data.train_pairs=44", "training.epochs=4", "training.eval_every=4"];
const scratch = mkdtempSync(join(tmpdir(), "sdfn-compiled-"));

type StepEvent = Extract<TrainEvent, { type: "step" }>;
type EpochEvent = Extract<TrainEvent, { type: "epoch" }>;

async function run(compile: "eager" | "replay", name: string, opts: { resume?: string; abortAfterStep?: number; textBucket?: number; sets?: string[] } = {}) {
  const loaded = await loadRecipe(RECIPE, { sets: [...SETS, `training.compile=${compile}`, `training.text_bucket=${opts.textBucket ?? 1}`, ...(opts.sets ?? [])] });
  const events: TrainEvent[] = [];
  const controller = new AbortController();
  const outDir = opts.resume ?? join(scratch, name);
  const summary = await train(loaded, {
    outDir,
    resume: opts.resume,
    backend: "torch",
    onEvent: (e) => {
      events.push(e);
      if (e.type === "step" && e.step === opts.abortAfterStep) controller.abort();
    },
    signal: controller.signal,
  });
  const steps = events.filter((e): e is StepEvent => e.type === "step");
  const epochs = events.filter((e): e is EpochEvent => e.type === "epoch");
  return { summary, events, steps, epochs, outDir };
}

/** The last checkpoint's weights, or its resume state (optimizer moments, the distillation cache). */
const tensorsOf = (dir: string, part: "weights" | "state") => readSafetensors(new RunDir(dir).checkpoint("last")[part]).tensors;

/** Largest |a − b| / max(1, |a|) over every tensor of two safetensors files' common names (and they have the same names), but those `skip` matches. */
function maxDifference(a: Record<string, { data: ArrayLike<number> }>, b: Record<string, { data: ArrayLike<number> }>, skip?: RegExp): number {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  let worst = 0;
  for (const [name, t] of Object.entries(a)) {
    if (skip?.test(name)) continue;
    const u = b[name]!.data;
    expect(u.length, name).toBe(t.data.length);
    for (let k = 0; k < t.data.length; k++) worst = Math.max(worst, Math.abs(t.data[k]! - u[k]!) / Math.max(1, Math.abs(t.data[k]!)));
  }
  return worst;
}

describe.skipIf(missing("addon"))("compiled training step on torch", () => {
  let eager: Awaited<ReturnType<typeof run>>;
  let replay: Awaited<ReturnType<typeof run>>;
  let bucketed: Awaited<ReturnType<typeof run>>;

  beforeAll(async () => {
    await useBackend("torch");
    eager = await run("eager", "eager");
    replay = await run("replay", "replay"); // a program per text length: bit for bit the eager step
    bucketed = await run("replay", "bucketed", { textBucket: 8 }); // texts padded to 8 words
  }, 600_000); // three 24-step runs: ~1 min on an idle 2-core machine

  afterAll(async () => {
    await tf.setBackend("cpu");
    rmSync(scratch, { recursive: true, force: true });
  });

  it("replays most steps, one program per step shape, and agrees with eager steps to 1e-6 (losses, paths, every weight)", () => {
    expect(replay.summary.status).toBe("completed");
    expect(replay.steps).toHaveLength(24);
    const counts = replay.epochs.map((e) => e.compiled!);
    const replayed = counts.reduce((n, c) => n + c.replayed, 0);
    expect(counts.reduce((n, c) => n + c.replayed + c.eager, 0)).toBe(24);
    expect(replayed).toBeGreaterThanOrEqual(10);
    // a program per step shape: with and without teacher, full and short batches, text buckets
    expect(counts.reduce((n, c) => n + c.programs, 0)).toBeLessThanOrEqual(8);
    expect(counts[3]!.replayed).toBeGreaterThanOrEqual(4);
    expect(eager.epochs.every((e) => e.compiled === undefined)).toBe(true);
    expect(replay.events.filter((e) => e.type === "warning")).toEqual([]);

    eager.steps.forEach((e, k) => {
      const r = replay.steps[k]!;
      expect(r.step).toBe(e.step);
      expect(r.lr).toBe(e.lr);
      for (const [name, v] of Object.entries(e.losses)) expect(Math.abs(r.losses[name]! - v), `step ${k} ${name}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v)));
      e.routing.flat().forEach((v, j) => expect(Math.abs(r.routing.flat()[j]! - v)).toBeLessThanOrEqual(1e-6));
    });
    // the teacher is on from epoch 2 (the distillation loss is 0 before)
    expect(replay.steps.filter((s) => s.epoch === 0).every((s) => s.losses.path_distillation === 0)).toBe(true);
    expect(replay.steps.filter((s) => s.epoch > 0).every((s) => s.losses.path_distillation! > 0)).toBe(true);
    expect(maxDifference(tensorsOf(eager.outDir, "weights"), tensorsOf(replay.outDir, "weights"))).toBeLessThanOrEqual(1e-6);
    // optimizer moments and the recorded paths of the distillation cache
    expect(maxDifference(tensorsOf(eager.outDir, "state"), tensorsOf(replay.outDir, "state"))).toBeLessThanOrEqual(1e-6);
  });

  it("text buckets: the same training as without padding (losses and paths to 1e-6 at every step)", () => {
    const programs = (r: typeof replay) => r.epochs.reduce((n, e) => n + e.compiled!.programs, 0);
    // (the shapes texts of a batch are about equally long: the program count is the driven test's)
    expect(programs(bucketed)).toBeLessThanOrEqual(programs(replay));
    expect(bucketed.events.filter((e) => e.type === "warning")).toEqual([]);
    eager.steps.forEach((e, k) => {
      const r = bucketed.steps[k]!;
      for (const [name, v] of Object.entries(e.losses)) expect(Math.abs(r.losses[name]! - v), `step ${k} ${name}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v)));
      e.routing.flat().forEach((v, j) => expect(Math.abs(r.routing.flat()[j]! - v)).toBeLessThanOrEqual(1e-6));
    });
    // Weights to 1e-5 (measured 1.7e-6: sums over the padded word axis round differently), but the
    // attention key biases: softmax ignores them, so their exact gradient is 0 and Adam scales the
    // rounding noise of either run up to lr-sized steps; they only have to stay within lr × steps.
    const keyBias = /\.attn\.k\.bias$/;
    expect(maxDifference(tensorsOf(eager.outDir, "weights"), tensorsOf(bucketed.outDir, "weights"), keyBias)).toBeLessThanOrEqual(1e-5);
    expect(maxDifference(tensorsOf(eager.outDir, "weights"), tensorsOf(bucketed.outDir, "weights"))).toBeLessThanOrEqual(0.01 * 24);
  });

  it("a frozen-weights teacher runs inside the replayed step (its forward is part of the program) and agrees with eager (losses to 1e-5, texts padded)", async () => {
    const sets = ["losses.2.teacher=frozen", "training.epochs=3"];
    const frozenEager = await run("eager", "frozen-eager", { sets, textBucket: 8 });
    const frozenReplay = await run("replay", "frozen-replay", { sets, textBucket: 8 });
    expect(frozenReplay.events.filter((e) => e.type === "warning").map((e) => (e as { message: string }).message)).toEqual([]);
    // epoch 2 learns the teacher's program (its first capture sees teacher and student share their weights), epoch 3 replays it
    expect(frozenReplay.epochs[2]!.compiled!.replayed).toBeGreaterThanOrEqual(5);
    expect(frozenReplay.steps.filter((s) => s.epoch > 0).every((s) => s.losses.path_distillation! > 0)).toBe(true);
    // texts padded to 8 words (the replay) against unpadded (eager): sums over the word axis round
    // differently (measured up to 1.4e-6 on a loss by step 12), and weights as in the text-bucket test above
    frozenEager.steps.forEach((e, k) => {
      for (const [name, v] of Object.entries(e.losses)) expect(Math.abs(frozenReplay.steps[k]!.losses[name]! - v), `step ${k} ${name}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v)));
    });
    expect(maxDifference(tensorsOf(frozenEager.outDir, "weights"), tensorsOf(frozenReplay.outDir, "weights"), /\.attn\.k\.bias$/)).toBeLessThanOrEqual(1e-5);
  }, 600_000);

  it("--resume in the middle of an epoch under replay ends with the weights of the uninterrupted replay run", async () => {
    const first = await run("replay", "resumed", { abortAfterStep: 8 }); // epoch 2, step 3 of 6
    expect(first.summary.status).toBe("interrupted");
    const resumed = await run("replay", "resumed", { resume: first.outDir });
    expect(resumed.summary.status).toBe("completed");
    expect(resumed.steps[0]!.step).toBe(9);
    expect(maxDifference(tensorsOf(replay.outDir, "weights"), tensorsOf(resumed.outDir, "weights"))).toBeLessThanOrEqual(1e-6);
  }, 600_000);

  describe("steps driven directly", () => {
    let session: Session;
    let setup: StepSetup;
    const warnings: string[] = [];
    let compiled: CompiledSteps;
    /** A batch whose longest text has `words` words (the others 1 and 2). */
    const batchOfLength = (words: number) =>
      tf.tidy(() => {
        const lengths = [words, 1, 2, words];
        return {
          ids: [0, 1, 2, 3],
          reference: tf.randomNormal([4, 16, 16, 3], 0, 1, "float32", 7) as tf.Tensor4D,
          target: tf.randomNormal([4, 16, 16, 3], 0, 1, "float32", 8) as tf.Tensor4D,
          tokens: tf.tensor2d(lengths.flatMap((n) => Array.from({ length: words }, (_, k) => (k < n ? 1 + ((k * 7) % 19) : 0))), [4, words], "int32"),
          mask: tf.tensor2d(lengths.flatMap((n) => Array.from({ length: words }, (_, k) => (k < n ? 1 : 0))), [4, words]),
        };
      });
    const batch = (nan = false) =>
      tf.tidy(() => {
        const reference = tf.randomNormal([4, 16, 16, 3], 0, 1, "float32", 7) as tf.Tensor4D;
        return {
          ids: [0, 1, 2, 3],
          reference: (nan ? tf.mul(reference, NaN) : reference) as tf.Tensor4D,
          target: tf.randomNormal([4, 16, 16, 3], 0, 1, "float32", 8) as tf.Tensor4D,
          tokens: tf.tensor2d([[1, 2, 3, 0], [4, 5, 0, 0], [6, 7, 8, 9], [2, 0, 0, 0]], [4, 4], "int32"),
          mask: tf.tensor2d([[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]]),
        };
      });
    let stepCount = 0;
    const step = async (b: Awaited<ReturnType<typeof batch>>, s = setup, teacher: StepTeacher = null) => {
      const rng = stepCount++;
      const fc: ForwardContext = { training: true, seed: () => rng };
      return trainStep(s, b, teacher, fc, 1e-3);
    };
    const snapshot = () => setup.variables.map((v) => v.dataSync().slice());

    beforeAll(async () => {
      await useBackend("torch");
      const loaded = await loadRecipe(RECIPE);
      session = await openSession(loaded, { vocabulary: { size: 20, words: Array.from({ length: 20 }, (_, i) => `w${i}`) }, dataset: false });
      compiled = new CompiledSteps((m) => warnings.push(m));
      setup = stepSetup(session.network, session.losses, session.optimizer, { compiled });
    });

    afterAll(() => {
      compiled.dispose();
      session.dispose();
    });

    it("a NaN loss leaves every parameter unchanged, replayed and eager", async () => {
      const good = batch();
      for (let k = 0; k < 3; k++) await step(good); // two captures, then replays
      expect(compiled.programs()).toHaveLength(1);
      const bad = batch(true);
      const before = snapshot();
      const steps = session.optimizer.steps;
      const replayed = await step(bad);
      expect(replayed.nonFinite.length).toBeGreaterThan(0);
      expect(snapshot()).toEqual(before);
      expect(session.optimizer.steps).toBe(steps);
      const eagerResult = await step(bad, { ...setup, compiled: undefined });
      expect(eagerResult.nonFinite).toEqual(replayed.nonFinite);
      expect(snapshot()).toEqual(before);
      tf.dispose([good, bad].flatMap((b) => [b.reference, b.target, b.tokens, b.mask]));
    });

    it("keeps the native handle count and the tensor count over 100 replayed steps", async () => {
      const b = batch();
      await step(b);
      const backend = tf.backend() as TorchBackend;
      const handles = backend.memory().nativeHandles;
      const tensors = tf.memory().numTensors;
      const program = compiled.programs()[0]!;
      const before = program.stats();
      for (let k = 0; k < 100; k++) await step(b);
      const after = program.stats();
      expect(after.replays - before.replays).toBe(100);
      // every Adam update wrote into the variable's and moments' storage (no new tensors per step)
      expect(program.updates).toBeGreaterThan(0);
      expect(after.inPlaceUpdates - before.inPlaceUpdates).toBe(100 * program.updates);
      expect(backend.memory().nativeHandles).toBe(handles);
      expect(tf.memory().numTensors).toBe(tensors);
      tf.dispose([b.reference, b.target, b.tokens, b.mask]);
    });

    it("the distillation cache stays on the device: 100 replays read the batch's teacher and write its paths in place, nothing leaks", async () => {
      const net = session.network;
      const cache = new PathCache({ layers: net.layers.length, modules: net.layers[0]!.length }, 6);
      const b = { ...batch(), ids: [5, 1, 0, 3] };
      const cachedStep = async () => {
        const teacher = cacheTeacher(cache, b.ids);
        try {
          return await step(b, setup, teacher);
        } finally {
          teacher.dispose();
        }
      };
      const own = new CompiledSteps((m) => warnings.push(m));
      warnings.length = 0;
      setup = { ...setup, compiled: own };
      await cachedStep(); // epoch 1: paths written, no teacher yet
      cache.advance();
      expect(cache.hasTeacher).toBe(true);
      const written = cache.toTensors()["spd.previous.ids"]!.data;
      expect(Array.from(written)).toEqual([0, 1, 3, 5]);
      for (let k = 0; k < 3; k++) await cachedStep(); // two captures, then replays
      const program = own.programs().at(-1)!;
      const backend = tf.backend() as TorchBackend;
      const handles = backend.memory().nativeHandles;
      const tensors = tf.memory().numTensors;
      const before = program.stats();
      let last = cache.recorded(b.ids);
      let changed = 0;
      let untrained = 0;
      for (let k = 0; k < 100; k++) {
        const r = await cachedStep();
        untrained = r.noGradient.length;
        expect(r.losses.path_distillation).toBeGreaterThan(0);
        const now = cache.recorded(b.ids);
        if (now.some((v, j) => v !== last[j])) changed++;
        last = now;
      }
      expect(program.stats().replays - before.replays).toBe(100);
      expect(changed).toBe(100); // every replay wrote the batch's paths (the weights move each step)
      const adam = setup.variables.length - untrained;
      expect(program.updates).toBe(adam + 1); // Adam per parameter, and the cache's row update
      expect(program.stats().inPlaceUpdates - before.inPlaceUpdates).toBe(100 * program.updates);
      expect(backend.memory().nativeHandles).toBe(handles);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(warnings).toEqual([]);
      setup = { ...setup, compiled };
      own.dispose();
      cache.dispose();
      tf.dispose([b.reference, b.target, b.tokens, b.mask]);
    });

    it("text buckets: texts of 3, 5, 6 and 8 words share one program with text_bucket 8 (one each with 1)", async () => {
      for (const [textBucket, programs] of [[8, 1], [1, 4]] as const) {
        const own = new CompiledSteps((m) => warnings.push(m), { textBucket });
        warnings.length = 0;
        for (const words of [3, 5, 6, 8]) {
          const b = batchOfLength(words);
          for (let k = 0; k < 3; k++) expect(Number.isFinite((await step(b, { ...setup, compiled: own })).total)).toBe(true);
          tf.dispose([b.reference, b.target, b.tokens, b.mask]);
        }
        expect(warnings).toEqual([]);
        expect(own.programs()).toHaveLength(programs);
        const counts = own.takeCounts();
        expect(counts.programs).toBe(programs);
        expect(counts.replayed).toBe(12 - 2 * programs); // two captures per program, then replays
        own.dispose();
      }
    });

    it("training.cuda_graph is inert on the CPU device (and compiles to stubs in a CPU build): asking for graphs is answered no", () => {
      const backend = tf.backend() as TorchBackend;
      if (backend.device !== "cpu") return; // on CUDA the answer is the build's
      const addon = backend.native.addon;
      expect(addon.setCudaGraph!(true)).toBe(false);
      expect(addon.setCudaGraph!(false)).toBe(false);
    });

    it("a step that reads a value back is refused with one warning and runs eagerly", async () => {
      const readsBack: TrainableNetwork = {
        encodeQuery: (input, fc) => setup.net.encodeQuery(input, fc),
        encodeTarget: (images, fc) => {
          tf.sum(images).dataSync(); // a readback inside the step
          return setup.net.encodeTarget(images, fc);
        },
      };
      const own = new CompiledSteps((m) => warnings.push(m));
      warnings.length = 0;
      const b = batch();
      const results = [];
      for (let k = 0; k < 3; k++) results.push(await step(b, { ...setup, net: readsBack, compiled: own }));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/cannot be replayed natively \(a readback of a tensor .*\); training continues eagerly/);
      expect(own.programs()).toHaveLength(0);
      expect(own.takeCounts()).toEqual({ programs: 0, replayed: 0, eager: 3 });
      for (const r of results) expect(Number.isFinite(r.total)).toBe(true);
      own.dispose();
      tf.dispose([b.reference, b.target, b.tokens, b.mask]);
    });
  });
});
