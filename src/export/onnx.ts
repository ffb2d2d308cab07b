// `sdfn export RUN --format onnx`: the run's target encoder (image → t) and query encoder
// (reference image + token ids + mask → q, and the routing path per layer) as ONNX models with a
// dynamic batch, both ending in the L2 normalisation sdfn ranks with, and preprocess.json (how to
// turn a photo and a sentence into their inputs). Each model is the network's own forward traced
// twice (batch 2 and 5, different texts) on the tfjs kernels it runs (trace.ts → onnx-emit.ts).
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { RunModel } from "../infer/model.js";
import { normalizeRows } from "../eval/retrieval.js";
import type { Network } from "../graph/compile.js";
import { withPath } from "../io/io-error.js";
import { inference } from "../nn/context.js";
import { checkReplaceable, writeDirectory } from "../run/output-dir.js";
import { Rng } from "../util/rng.js";
import { ELEM, encodeModel, OPSET, type GraphValue } from "./onnx-graph.js";
import { emitGraph, unify } from "./onnx-emit.js";
import { KERNELS } from "./onnx-kernels.js";
import { scoped, traceForward, type Trace } from "./trace.js";

/** Batch sizes of the two traces (different, and unlike any other dimension of the small networks). */
const BATCHES = [2, 5] as const;

export const EXPORT_FILES = { target: "target.onnx", query: "query.onnx", preprocess: "preprocess.json" } as const;

/** Runs `fn` with every part of `net` (encoders, modules, routers) reporting its kernels under its recipe name. */
function withScopes<T>(net: Network, fn: () => T): T {
  const restore: (() => void)[] = [];
  const wrap = <O extends object, K extends keyof O>(obj: O, key: K, label: string) => {
    const original = obj[key] as unknown as (...args: unknown[]) => unknown;
    obj[key] = ((...args: unknown[]) => scoped(label, () => original.apply(obj, args))) as O[K];
    restore.push(() => (obj[key] = original as O[K]));
  };
  wrap(net.image, "encode", `encoders.image (${net.spec.image.type})`);
  wrap(net.text, "encode", `encoders.text (${net.spec.text.type})`);
  net.fusion.forEach((layer, l) => {
    layer.modules.forEach((m, i) => wrap(m, "forward", `fusion.modules[${i}] (${net.spec.modules[i]!.type}) in layer ${l + 1}`));
    wrap(layer.router, "route", `fusion.router (${net.spec.router.type}) in layer ${l + 1}`);
  });
  try {
    return fn();
  } finally {
    for (const r of restore.reverse()) r();
  }
}

/** Inputs of one trace: seeded images, and texts of different lengths (padded to maxWords). */
function traceInputs(model: RunModel, batch: number, seed: number) {
  const rng = new Rng(seed);
  const s = model.imageOptions.image_size;
  const T = model.maxWords;
  const images = tf.tensor4d(Float32Array.from({ length: batch * s * s * 3 }, () => rng.normal()), [batch, s, s, 3]);
  const tokens = new Int32Array(batch * T);
  const mask = new Float32Array(batch * T);
  for (let b = 0; b < batch; b++) {
    const words = 1 + ((b * 7 + seed) % T);
    for (let t = 0; t < words; t++) {
      tokens[b * T + t] = 2 + rng.int(Math.max(1, model.vocabulary.size - 2));
      mask[b * T + t] = 1;
    }
  }
  return { images, tokens: tf.tensor2d(tokens, [batch, T], "int32"), mask: tf.tensor2d(mask, [batch, T]) };
}

type Part = "target" | "query";

/** Two traces of one encoder of `net`, batch sizes BATCHES. */
function traces(model: RunModel, part: Part): [Trace, Trace] {
  const net = model.session.network;
  const mapped = (kernel: string) => kernel in KERNELS;
  return BATCHES.map((batch, i) => {
    const { images, tokens, mask } = traceInputs(model, batch, 17 + i);
    try {
      return withScopes(net, () =>
        part === "target"
          ? traceForward([images], net.store.variables, mapped, () => [normalizeRows(net.encodeTarget(images, inference))])
          : traceForward([images, tokens, mask], net.store.variables, mapped, () => {
              const out = net.encodeQuery({ reference: images, tokens, mask }, inference);
              return [normalizeRows(out.query), ...out.paths];
            }),
      );
    } finally {
      tf.dispose([images, tokens, mask]);
    }
  }) as [Trace, Trace];
}

/** The ONNX bytes of one encoder. */
function encoderModel(model: RunModel, part: Part, version: string): Uint8Array {
  const [t1, t2] = traces(model, part);
  const unified = unify(t1, t2, BATCHES[0], BATCHES[1]);
  const s = model.imageOptions.image_size;
  const T = model.maxWords;
  const layers = model.layers;
  const inputs: GraphValue[] =
    part === "target"
      ? [{ name: "image", elem: ELEM.float32, shape: ["batch", s, s, 3] }]
      : [
          { name: "reference", elem: ELEM.float32, shape: ["batch", s, s, 3] },
          { name: "tokens", elem: ELEM.int32, shape: ["batch", T] },
          { name: "mask", elem: ELEM.float32, shape: ["batch", T] },
        ];
  const outputs: GraphValue[] =
    part === "target"
      ? [{ name: "t", elem: ELEM.float32, shape: ["batch", model.dim] }]
      : [
          { name: "q", elem: ELEM.float32, shape: ["batch", model.dim] },
          ...layers.map((mods, l) => ({ name: `path_${l + 1}`, elem: ELEM.float32, shape: ["batch", mods.length, l + 1 < layers.length ? layers[l + 1]!.length : 1] })),
        ];
  const graph = emitGraph(unified, model.session.network.store.variables, { inputs, outputs: outputs.map((o) => o.name) });
  return encodeModel(graph, {
    name: `sdfn ${part} encoder`,
    doc: part === "target" ? "image (NHWC, normalised as preprocess.json says) → t, the L2-normalised target embedding" : "reference image, token ids and mask → q (L2-normalised) and the routing path per fusion layer",
    inputs,
    outputs,
    producerVersion: version,
    metadata: { run: model.identity.run, recipe_hash: model.identity.recipeHash, weights_sha256: model.identity.weightsSha256 },
  });
}

/** How a photo and a sentence become the models' inputs. */
function preprocessJson(model: RunModel) {
  const o = model.imageOptions;
  const resize = o.resize > 0 ? Math.max(o.resize, o.image_size) : Math.round((o.image_size * 256) / 224);
  return {
    format: "sdfn-onnx-export",
    version: 1,
    opset: OPSET,
    run: model.identity,
    models: { target: EXPORT_FILES.target, query: EXPORT_FILES.query },
    image: {
      size: o.image_size,
      layout: "NHWC",
      channels: "RGB",
      pad_square: o.pad_square,
      resize_shorter_side: o.pad_square ? null : resize,
      resize_square: o.pad_square ? resize : null,
      crop: "center",
      scale: "pixel / 255",
      mean: o.mean,
      std: o.std,
      steps: o.pad_square
        ? `pad to a white square, resize to ${resize}×${resize}, crop the centre ${o.image_size}×${o.image_size}, x = (pixel/255 − mean) / std per channel`
        : `resize the shorter side to ${resize} (aspect kept), crop the centre ${o.image_size}×${o.image_size}, x = (pixel/255 − mean) / std per channel`,
    },
    text: {
      tokenizer: "lowercase, then words = runs of letters and digits with inner apostrophes (regex /[\\p{L}\\p{N}]+(?:'[\\p{L}\\p{N}]+)*/gu); punctuation separates words",
      vocabulary: model.vocabulary.words,
      pad_id: 0,
      unk_id: 1,
      unknown_word: "id 1 (<unk>)",
      empty_text: "one <unk> token",
      max_length: model.maxWords,
      padding: `token ids right-padded with 0 to max_length (${model.maxWords}); mask 1.0 for a word, 0.0 for padding; a text longer than max_length is refused`,
    },
    outputs: { t: "L2-normalised target embedding", q: "L2-normalised query embedding: score = q · t (cosine)", path: "path_L: (batch, M, R) routing distributions of fusion layer L" },
    layers: model.layers,
  };
}

/** Writes target.onnx, query.onnx and preprocess.json into `out` (a directory, written whole). */
export async function exportOnnx(model: RunModel, out: string, version: string): Promise<string[]> {
  const root = resolve(out);
  const kind = { marker: EXPORT_FILES.preprocess, format: "sdfn-onnx-export" };
  checkReplaceable(root, kind); // before the minutes a large model's tracing may take
  const target = encoderModel(model, "target", version);
  const query = encoderModel(model, "query", version);
  await writeDirectory(root, kind, (tmp) => {
    const put = (name: string, data: string | Uint8Array) => withPath(join(tmp, name), "write", () => writeFileSync(join(tmp, name), data));
    put(EXPORT_FILES.target, target);
    put(EXPORT_FILES.query, query);
    put(EXPORT_FILES.preprocess, `${JSON.stringify(preprocessJson(model), null, 2)}\n`);
  });
  return Object.values(EXPORT_FILES).map((f) => join(root, f));
}
