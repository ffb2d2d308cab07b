// `sdfn export --format onnx`: a second runtime (onnxruntime-node) gives the embeddings and routing
// paths sdfn gives, to 1e-4, on a batch of real images and texts of a size the export never traced
// (3), for a trained tiny run, the quickstart and the paper's architecture at a small size; the
// models are opset 17 with a symbolic batch; a module without an ONNX mapping is exit 2 naming it.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import ort from "onnxruntime-node";
import onnxProto from "onnx-proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDataset, type OpenDataset } from "../../src/data/index.js";
import { useBackend } from "../../src/backend/index.js";
import { exportOnnx } from "../../src/export/onnx.js";
import { openRun, RunModel } from "../../src/infer/model.js";
import { loadRecipe } from "../../src/recipe/index.js";
import { openSession } from "../../src/run/session.js";
import { train } from "../../src/run/train.js";
import { ROOT, sdfn } from "../support/cli.js";
import { trainTiny } from "../catalogue/helpers.js";

tf.env().set("IS_TEST", true);

const scratch = mkdtempSync(join(tmpdir(), "sdfn-onnx-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
beforeAll(() => tf.setBackend("cpu"));

/** A freshly initialised model of a recipe (no run directory; its shapes dataset gives the vocabulary). */
async function freshModel(recipe: string, sets: string[] = []): Promise<RunModel> {
  const loaded = await loadRecipe(join(ROOT, recipe), { sets });
  const session = await openSession(loaded);
  return new RunModel({ run: "(fresh)", checkpoint: "best", recipeHash: loaded.hash, weightsSha256: "-" }, loaded, session.dataset.vocabulary, session, "cpu", () => {});
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  return Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
};

/** sdfn's and onnxruntime's embeddings and paths of three evaluation queries (their references and texts) and three gallery images. */
async function compare(model: RunModel, dir: string, dataset: OpenDataset = model.session.dataset): Promise<void> {
  const opts = { logSeverityLevel: 3 as const };
  const target = await ort.InferenceSession.create(join(dir, "target.onnx"), opts);
  const query = await ort.InferenceSession.create(join(dir, "query.onnx"), opts);
  const set = dataset.evalSets[0]!;
  const queries = set.queries.slice(0, 3);
  const images = await dataset.loader.images(queries.map((q) => q.reference), { train: false });
  const gallery = await dataset.loader.images(set.gallery.slice(0, 3), { train: false });
  const texts = queries.map((q) => model.tokenize(q.text));
  const [B, S] = [3, model.imageOptions.image_size];
  const T = model.maxWords;
  const tokens = new Int32Array(B * T);
  const mask = new Float32Array(B * T);
  texts.forEach((t, b) => {
    tokens.set(t.ids, b * T);
    mask.fill(1, b * T, b * T + t.ids.length);
  });
  const ours = { t: await model.encodeTargets(gallery), q: await model.encodeQueries(images, texts) };
  const px = (t: tf.Tensor4D) => new ort.Tensor("float32", t.dataSync() as Float32Array, [B, S, S, 3]);
  const theirs = {
    t: await target.run({ image: px(gallery) }),
    q: await query.run({ reference: px(images), tokens: new ort.Tensor("int32", tokens, [B, T]), mask: new ort.Tensor("float32", mask, [B, T]) }),
  };
  tf.dispose([images, gallery]);
  expect(maxDiff(ours.t, theirs.t.t!.data as Float32Array)).toBeLessThan(1e-4);
  expect(maxDiff(ours.q.data, theirs.q.q!.data as Float32Array)).toBeLessThan(1e-4);
  model.layers.forEach((_, l) => {
    expect(maxDiff(ours.q.paths.flatMap((p) => p[l]!.flat()), theirs.q[`path_${l + 1}`]!.data as Float32Array)).toBeLessThan(1e-4);
  });
  await Promise.all([target.release(), query.release()]);
}

describe("sdfn export --format onnx", () => {
  it("a trained run: the files, opset 17 with a symbolic batch, and onnxruntime's embeddings equal sdfn's", async () => {
    const run = await trainTiny(join(scratch, "tiny"));
    const out = join(scratch, "tiny.onnx");
    const r = await sdfn("export", run, "--format", "onnx", "--out", out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("target.onnx, query.onnx, preprocess.json (opset 17, dynamic batch; text length 32)");
    const model = onnxProto.onnx.ModelProto.decode(readFileSync(join(out, "query.onnx")));
    expect(model.opsetImport.map((o) => Number(o.version))).toEqual([17]);
    expect(model.graph!.input!.map((i) => [i.name, i.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))])).toEqual([
      ["reference", ["batch", 16, 16, 3]],
      ["tokens", ["batch", 32]],
      ["mask", ["batch", 32]],
    ]);
    const pre = JSON.parse(readFileSync(join(out, "preprocess.json"), "utf8")) as Record<string, any>;
    const opened = await openRun(run, { backend: "cpu" });
    try {
      expect(pre.image).toMatchObject({ size: 16, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], crop: "center" });
      expect(pre.text).toMatchObject({ vocabulary: opened.vocabulary.words, max_length: 32, pad_id: 0, unk_id: 1 });
      expect(pre.run).toEqual(opened.identity);
      await compare(opened, out, await openDataset(opened.loaded.recipe, opened.loaded.registry, { vocabulary: opened.vocabulary }));
    } finally {
      opened.close();
    }
  }, 60_000);

  it("the quickstart's network (freshly initialised)", async () => {
    const model = await freshModel("recipes/quickstart.yaml", ["data.train_pairs=32", "data.test_references=4", "data.test_edits=4", "data.test_queries=16", "evaluation.recall_at=[1,5]"]);
    try {
      const out = join(scratch, "quickstart.onnx");
      await exportOnnx(model, out, "test");
      await compare(model, out);
    } finally {
      model.close();
    }
  }, 60_000);

  it("the paper's architecture at a small size: ResNet-50 at 64 px, 8 heads, attention-pooled routers", async () => {
    await useBackend("wasm"); // ResNet-50's convolutions: seconds on wasm, a minute on the pure-JS cpu backend
    const model = await freshModel("test/export/fixtures/paper-small.yaml");
    try {
      const out = join(scratch, "paper.onnx");
      await exportOnnx(model, out, "test");
      await compare(model, out);
    } finally {
      model.close();
      await tf.setBackend("cpu");
    }
  }, 120_000);

  it("a module whose kernels have no ONNX mapping: exit 2 naming it, nothing written", async () => {
    const run = join(scratch, "atan");
    await train(await loadRecipe(join(ROOT, "test/export/fixtures/atan.yaml")), { outDir: run, onEvent: () => {} });
    const out = join(scratch, "atan.onnx");
    const e = await sdfn("export", run, "--format", "onnx", "--out", out, "--recipe", join(ROOT, "test/export/fixtures/atan.yaml"));
    expect(e.code).toBe(2);
    expect(e.err).toContain("fusion.modules[1] (test/Atan) in layer 1: kernel Atan");
    expect(e.err).toContain("fusion.modules[1] (test/Atan) in layer 2: kernel Atan");
    expect(() => readFileSync(join(out, "query.onnx"))).toThrow();
    const bad = await sdfn("export", run, "--format", "tflite", "--out", out);
    expect([bad.code, bad.err]).toEqual([2, "error: export: --format tflite: the formats are: onnx\n"]);
  }, 60_000);
});
