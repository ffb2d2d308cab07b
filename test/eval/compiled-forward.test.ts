// The compiled evaluation forward on torch (training.compile): replayed gallery and query batches
// against eager ones on the tiny recipe (full and short batches, text lengths with and without
// buckets): embeddings to 1e-6, the same Recall@K and per-kind paths; no native leak over repeated
// evaluations; a forward that reads a value back falls back to eager with one warning; a run, `sdfn eval`
// and `sdfn query` evaluate through it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

import { useBackend } from "../../src/backend/index.js";
import type { TorchBackend } from "../../src/backend/torch/backend.js";
import { NativeProgram } from "../../src/backend/torch/replay/program.js";
import { CompiledForward } from "../../src/eval/compiled-forward.js";
import { embedGallery, embedQueries, type RetrievalNetwork } from "../../src/eval/embed.js";
import { evaluateDetailed } from "../../src/eval/evaluate.js";
import { loadRecipe } from "../../src/recipe/index.js";
import { readCheckpoint } from "../../src/run/checkpoint.js";
import { openSession, type Session } from "../../src/run/session.js";
import { train } from "../../src/run/train.js";
import type { TrainEvent } from "../../src/train/events.js";
import { sdfn } from "../support/cli.js";
import { missing } from "../support/requires.js";

tf.env().set("PROD", true);

const RECIPE = join(import.meta.dirname, "..", "train", "fixtures", "tiny.yaml");
// batches of 5 over the tiny sets: several full batches and a short last one of each kind
const BATCH = 5;

/** Largest |a − b| over two equally shaped tensors. */
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => {
  expect(b.shape).toEqual(a.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
};

describe.skipIf(missing("addon"))("compiled evaluation forward on torch", () => {
  let session: Session;
  let backend: TorchBackend;
  const warnings: string[] = [];

  beforeAll(async () => {
    await useBackend("torch");
    backend = tf.backend() as TorchBackend;
    const loaded = await loadRecipe(RECIPE, { sets: ["backend=torch", "data.test_references=6", "data.test_edits=4"] });
    session = await openSession(loaded);
  }, 120_000);

  afterAll(async () => {
    session?.dispose();
    await tf.setBackend("cpu");
  });

  /** The first evaluation set, its query texts lengthened by 0, 1 or 2 words per batch (text lengths vary). */
  const set = () => {
    const base = session.dataset.evalSets[0]!;
    const queries = base.queries.map((q, i) => ({ ...q, text: [q.text, ...q.text.split(" ").slice(0, Math.floor(i / BATCH) % 3)].join(" ") }));
    return { ...base, queries };
  };
  const loader = () => session.dataset.loader;
  const compiled = (textBucket = 1, net: RetrievalNetwork = session.network) => new CompiledForward(net, (m) => warnings.push(m), textBucket);

  /** Gallery and query embeddings (and every batch's paths) of the first evaluation set. */
  async function embed(net: RetrievalNetwork) {
    const paths: { start: number; layers: number[][][][] }[] = [];
    const gallery = await embedGallery(net, loader(), set().gallery, BATCH);
    const queries = await embedQueries(net, loader(), set().queries, BATCH, (start, layers) => paths.push({ start, layers }));
    return { gallery, queries, paths };
  }

  it("replays gallery and query batches with the eager embeddings and paths (1e-6), short last batches and text lengths included", async () => {
    expect(set().gallery.length % BATCH).not.toBe(0); // a short last gallery batch
    expect(set().queries.length % BATCH).not.toBe(0);
    warnings.length = 0;
    const eager = await embed(session.network);
    for (const textBucket of [1, 8]) {
      const forward = compiled(textBucket);
      const first = await embed(forward); // records each batch (a shape seen twice gets its program)
      const second = await embed(forward); // records the rest: every shape now has a program
      const eagerSoFar = forward.counts.eager;
      const third = await embed(forward); // replays every batch
      expect(forward.counts.eager).toBe(eagerSoFar);
      expect(forward.counts.programs).toBeGreaterThanOrEqual(4); // gallery full + short, queries full + short
      expect(forward.counts.replayed).toBeGreaterThanOrEqual(Math.ceil(set().gallery.length / BATCH) + Math.ceil(set().queries.length / BATCH));
      for (const run of [first, second, third]) {
        expect(maxDiff(eager.gallery, run.gallery)).toBeLessThanOrEqual(1e-6);
        expect(maxDiff(eager.queries, run.queries)).toBeLessThanOrEqual(1e-6);
        expect(run.paths.map((p) => p.start)).toEqual(eager.paths.map((p) => p.start));
        const flat = (p: typeof eager.paths) => p.flatMap((b) => b.layers.flat(3));
        const want = flat(eager.paths);
        flat(run.paths).forEach((v, k) => expect(Math.abs(v - want[k]!)).toBeLessThanOrEqual(1e-6));
        tf.dispose([run.gallery, run.queries]);
      }
      forward.dispose();
    }
    tf.dispose([eager.gallery, eager.queries]);
    expect(warnings).toEqual([]);
  });

  it("text buckets: query batches of several text lengths share programs (fewer than one per length)", async () => {
    const lengths = new Set<number>();
    for (let s = 0; s < set().queries.length; s += BATCH) {
      const { tokens, mask } = loader().texts(set().queries.slice(s, s + BATCH).map((q) => q.text));
      lengths.add(tokens.shape[1]);
      tf.dispose([tokens, mask]);
    }
    expect(lengths.size).toBeGreaterThan(1); // the texts vary in length
    const programs = async (textBucket: number) => {
      const forward = compiled(textBucket);
      for (let k = 0; k < 2; k++) tf.dispose(await embedQueries(forward, loader(), set().queries, BATCH));
      const n = forward.programs().length;
      forward.dispose();
      return n;
    };
    expect(await programs(16)).toBeLessThan(await programs(1));
  });

  it("gives the eager Recall@K and per-kind breakdown (evaluateDetailed), with stable native handles and programs over repeated evaluations", async () => {
    const opts = { ks: [1, 5], batchSize: BATCH };
    const sets = [set(), ...session.dataset.evalSets.slice(1)];
    const eager = await evaluateDetailed(session.network, loader(), sets, opts);
    const programsBefore = backend.native.addon.programCount();
    const forward = compiled(8);
    const first = await evaluateDetailed(forward, loader(), sets, opts);
    await evaluateDetailed(forward, loader(), sets, opts); // programs for every shape now
    const handles = backend.memory().nativeHandles as number;
    const tensors = tf.memory().numTensors;
    const programs = backend.native.addon.programCount();
    const replayed = forward.counts.replayed;
    for (let k = 0; k < 3; k++) {
      const again = await evaluateDetailed(forward, loader(), sets, opts);
      expect(again.metrics).toEqual(eager.metrics);
      expect(Object.keys(again.kinds)).toEqual(Object.keys(eager.kinds));
    }
    expect(forward.counts.replayed).toBeGreaterThan(replayed);
    expect(backend.memory().nativeHandles).toBe(handles);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.native.addon.programCount()).toBe(programs);
    expect(first.metrics).toEqual(eager.metrics);
    expect(Object.keys(eager.kinds).length).toBeGreaterThan(0);
    for (const [name, kinds] of Object.entries(eager.kinds)) {
      for (const [kind, row] of Object.entries(kinds)) {
        const got = first.kinds[name]![kind]!;
        expect(got.recall).toEqual(row.recall);
        got.path.flat(2).forEach((v, k) => expect(Math.abs(v - row.path.flat(2)[k]!)).toBeLessThanOrEqual(1e-6));
      }
    }
    forward.dispose();
    expect(backend.native.addon.programCount()).toBe(programsBefore);
  });

  it("a forward that reads a value back is refused with one warning and runs eagerly", async () => {
    const net = session.network;
    const reading: RetrievalNetwork = {
      encodeQuery: (input, fc) => net.encodeQuery(input, fc),
      encodeTarget: (images, fc) => {
        const t = net.encodeTarget(images, fc);
        t.dataSync(); // a readback inside the forward
        return t;
      },
    };
    warnings.length = 0;
    const programsBefore = backend.native.addon.programCount();
    const forward = compiled(1, reading);
    const eager = await embedGallery(net, loader(), set().gallery, BATCH);
    for (let k = 0; k < 2; k++) {
      const got = await embedGallery(forward, loader(), set().gallery, BATCH);
      expect(maxDiff(eager, got)).toBe(0);
      got.dispose();
    }
    eager.dispose();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/evaluation forward cannot be replayed natively \(a readback of a tensor .*\); evaluation continues eagerly/);
    expect(forward.refused).not.toBeNull();
    expect(backend.native.addon.programCount()).toBe(programsBefore);
  });

  it("a replayed training run, `sdfn eval` and `sdfn query` run through it: the eager evaluation of the run's weights, programs freed", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "sdfn-compiled-eval-"));
    const sets = ["backend=torch", "training.compile=replay", "training.epochs=3", "training.eval_every=1", "evaluation.batch_size=5", "training.text_bucket=8"];
    const loaded = await loadRecipe(RECIPE, { sets });
    const programsBefore = backend.native.addon.programCount();
    const queries = vi.spyOn(CompiledForward.prototype, "encodeQuery");
    const replays = vi.spyOn(NativeProgram.prototype, "replay");
    const events: TrainEvent[] = [];
    try {
      const summary = await train(loaded, { outDir: join(scratch, "run"), backend: "torch", onEvent: (e) => events.push(e) });
      expect(summary.status).toBe("completed");
      expect(queries).toHaveBeenCalled();
      // evaluations 2 and 3 replay forwards (programs with outputs), beside the replayed training steps
      expect(replays.mock.results.filter((r) => r.type === "return" && r.value.outputs.length > 0).length).toBeGreaterThan(4);
      expect(events.filter((e) => e.type === "warning")).toEqual([]);
      expect(backend.native.addon.programCount()).toBe(programsBefore);
      const weights = await openSession(loaded, { checkpoint: readCheckpoint(join(scratch, "run"), "last", false) });
      try {
        const eager = await evaluateDetailed(weights.network, weights.dataset.loader, weights.dataset.evalSets, { ks: loaded.recipe.evaluation.recall_at, batchSize: 5 });
        expect(summary.metrics).toEqual(eager.metrics);
      } finally {
        weights.dispose();
      }
      // `sdfn eval` compiles its forward the same way (the resolved recipe says torch, replay)
      const replaysBefore = replays.mock.calls.length;
      const evaluated = await sdfn("eval", join(scratch, "run"), "--checkpoint", "last", "--json");
      expect(evaluated.err).toBe("");
      expect(evaluated.code).toBe(0);
      expect(JSON.parse(evaluated.out).metrics).toEqual(summary.metrics);
      expect(replays.mock.calls.length).toBeGreaterThan(replaysBefore);
      expect(backend.native.addon.programCount()).toBe(programsBefore);
      // and `sdfn query` its gallery's
      const image = session.dataset.evalSets[0]!.gallery[0]!;
      const queried = await sdfn("query", join(scratch, "run"), "--checkpoint", "last", "--image", image, "--text", "make it red", "-k", "3", "--json");
      expect(queried.err).toBe("");
      expect(queried.code).toBe(0);
      expect(JSON.parse(queried.out).top).toHaveLength(3);
      expect(backend.native.addon.programCount()).toBe(programsBefore);
    } finally {
      queries.mockRestore();
      replays.mockRestore();
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 120_000);
});
