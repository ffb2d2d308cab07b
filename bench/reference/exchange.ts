// The sdfn side of the weight exchange with the PyTorch reference (bench/reference/README.md):
// a seeded batch, the network's outputs and every loss on it, and the files check.py and
// bench.py read — the weights (sdfn names and layouts), the batch (input.* / output.*) and
// the resolved recipe as JSON.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { Network } from "../../src/graph/compile.js";
import { writeSafetensors } from "../../src/io/safetensors.js";
import { inference, type ForwardContext } from "../../src/nn/context.js";
import type { LoadedRecipe } from "../../src/recipe/index.js";
import { openSession } from "../../src/run/session.js";
import type { NamedLoss } from "../../src/train/step.js";
import { Rng } from "../../src/util/rng.js";

/** A plain tensor as the safetensors writer takes it. */
export interface PlainTensor {
  dtype: "F32" | "I32";
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface BatchShape {
  batch: number;
  imageSize: number;
  /** 3 for images; the feature channels for the `features` encoder (then imageSize is the map side). */
  channels: number;
  textLength: number;
  vocabSize: number;
  seed: number;
}

/** Seeded inputs: normal pixels, word ids in [2, V), right-padded masks of decreasing length (≥ 1). */
export function syntheticBatch(s: BatchShape): Record<string, PlainTensor> {
  const rng = new Rng(s.seed);
  const image = (): PlainTensor => {
    const shape = [s.batch, s.imageSize, s.imageSize, s.channels];
    return { dtype: "F32", shape, data: Float32Array.from({ length: size(shape) }, () => rng.normal()) };
  };
  const lengths = Array.from({ length: s.batch }, (_, b) => Math.max(1, s.textLength - b));
  const tokens = new Int32Array(s.batch * s.textLength);
  const mask = new Float32Array(s.batch * s.textLength);
  lengths.forEach((n, b) => {
    for (let t = 0; t < n; t++) {
      tokens[b * s.textLength + t] = 2 + rng.int(Math.max(1, s.vocabSize - 2));
      mask[b * s.textLength + t] = 1;
    }
  });
  const textShape = [s.batch, s.textLength];
  return {
    "input.reference": image(),
    "input.target": image(),
    "input.tokens": { dtype: "I32", shape: textShape, data: tokens },
    "input.mask": { dtype: "F32", shape: textShape, data: mask },
  };
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export const toTensor = (p: PlainTensor): tf.Tensor =>
  tf.tensor(p.data, p.shape, p.dtype === "I32" ? "int32" : "float32");

export async function toPlain(t: tf.Tensor): Promise<PlainTensor> {
  const data = await t.data();
  return t.dtype === "int32"
    ? { dtype: "I32", shape: t.shape, data: Int32Array.from(data) }
    : { dtype: "F32", shape: t.shape, data: Float32Array.from(data) };
}

/** Inference (dropout off, batch norm from running statistics), for the exchange and the bench. */
export const evalContext: ForwardContext = inference;

export interface Batch {
  reference: tf.Tensor4D;
  target: tf.Tensor4D;
  tokens: tf.Tensor2D;
  mask: tf.Tensor2D;
  /** Path-distillation teacher (same shapes as the paths) and which samples have one. */
  teacher: tf.Tensor3D[] | null;
  teacherMask: tf.Tensor1D | null;
}

/** Forward pass plus every loss: { name: tensor } with the names check.py compares. */
export function runBatch(network: Network, losses: NamedLoss[], batch: Batch, fc: ForwardContext): Record<string, tf.Tensor> {
  const q = network.encodeQuery({ reference: batch.reference, tokens: batch.tokens, mask: batch.mask }, fc);
  const target = network.encodeTarget(batch.target, fc);
  const out: Record<string, tf.Tensor> = { query: q.query, target, tokens: q.tokens, last_inputs: q.lastInputs };
  q.paths.forEach((p, l) => (out[`paths.${l}`] = p));
  const input = { ...q, target, teacher: batch.teacher, teacherMask: batch.teacherMask };
  let total: tf.Tensor = tf.scalar(0);
  for (const { name, loss } of losses) {
    const value = loss.compute(input);
    out[`loss.${name}`] = value;
    total = tf.add(total, tf.mul(value, loss.weight));
  }
  if (losses.length) out["loss.total"] = total;
  return out;
}

/** Weights of the store as plain tensors, by dotted name (sdfn layouts). */
export async function storeTensors(network: Network): Promise<Record<string, PlainTensor>> {
  const out: Record<string, PlainTensor> = {};
  for (const [name, v] of network.store.variables) out[name] = await toPlain(v);
  return out;
}

export interface ExchangeFiles {
  weights: string;
  batch: string;
  recipe: string;
}

export interface ParityOptions {
  /** Vocabulary size of the synthetic texts (default 50). */
  vocabSize?: number;
  /**
   * Training mode: batch norm normalises by the batch and updates its running statistics
   * (exported as `state.<name>` after the pass). The recipe must set dropout 0 everywhere.
   * Default: evaluation mode (dropout off, batch norm from its running statistics).
   */
  training?: boolean;
}

/**
 * Compiles `loaded`, runs the batch with a seeded teacher for path distillation, and writes
 * the three files: the weights as they were before the pass; the batch file with the inputs,
 * the outputs and the gradient of the total loss for every trainable variable.
 */
export async function exportParity(
  loaded: LoadedRecipe,
  dir: string,
  shape: Omit<BatchShape, "vocabSize">,
  opts: ParityOptions = {},
): Promise<ExchangeFiles> {
  const vocabSize = opts.vocabSize ?? 50;
  const fc: ForwardContext = opts.training ? { training: true, seed: () => 0 } : evalContext;
  const words = Array.from({ length: vocabSize }, (_, i) => (i === 0 ? "<pad>" : i === 1 ? "<unk>" : `w${i}`));
  const session = await openSession(loaded, { vocabulary: { size: vocabSize, words }, dataset: false });
  const { network, losses } = session;
  try {
    perturbVectors(network, shape.seed + 2);
    const inputs = syntheticBatch({ ...shape, vocabSize });
    unitTokens(network, inputs["input.reference"]!);
    const weights = await storeTensors(network); // before a training pass moves the statistics
    const teacher = seededTeacher(network, shape.batch, shape.seed + 1);
    const record: Record<string, PlainTensor> = { ...inputs };
    teacher.forEach((t, l) => (record[`input.teacher.${l}`] = t));
    const mask = Float32Array.from({ length: shape.batch }, (_, b) => (b === 1 ? 0 : 1)); // one sample without a teacher
    record["input.teacher_mask"] = { dtype: "F32", shape: [shape.batch], data: mask };
    const batch: Batch = {
      reference: toTensor(inputs["input.reference"]!) as tf.Tensor4D,
      target: toTensor(inputs["input.target"]!) as tf.Tensor4D,
      tokens: toTensor(inputs["input.tokens"]!) as tf.Tensor2D,
      mask: toTensor(inputs["input.mask"]!) as tf.Tensor2D,
      teacher: teacher.map((t) => toTensor(t) as tf.Tensor3D),
      teacherMask: tf.tensor1d(mask),
    };
    try {
      // one pass: the outputs are kept out of the gradient's tidy, then the gradient of the
      // total loss for every trainable variable, by dotted name
      const trainable = [...network.store.variables].filter(([, v]) => v.trainable);
      let outputs: Record<string, tf.Tensor> = {};
      const { value, grads } = tf.variableGrads(() => {
        outputs = runBatch(network, losses, batch, fc);
        for (const t of Object.values(outputs)) tf.keep(t);
        return outputs["loss.total"] as tf.Scalar;
      }, trainable.map(([, v]) => v));
      for (const [name, t] of Object.entries(outputs)) record[`output.${name}`] = await toPlain(t);
      for (const [name, v] of trainable) record[`grad.${name}`] = await toPlain(grads[v.name]!);
      tf.dispose([value, ...Object.values(grads), ...Object.values(outputs)]);
      if (opts.training) {
        for (const [name, v] of network.store.variables) if (!v.trainable) record[`state.${name}`] = await toPlain(v);
      }
    } finally {
      tf.dispose([batch.reference, batch.target, batch.tokens, batch.mask, ...batch.teacher!, batch.teacherMask!]);
    }
    const files = { weights: join(dir, "weights.safetensors"), batch: join(dir, "batch.safetensors"), recipe: join(dir, "recipe.json") };
    writeSafetensors(files.weights, weights);
    writeSafetensors(files.batch, record);
    const channels = shape.channels === 3 ? undefined : shape.channels;
    const spec = { recipe: loaded.recipe, vocab_size: vocabSize, image_channels: channels, training: opts.training ?? false };
    writeFileSync(files.recipe, JSON.stringify(spec));
    return files;
  } finally {
    session.dispose();
  }
}

/**
 * Freshly initialised vectors are too regular to test much (batch-norm statistics 0 and 1,
 * LayerNorm and batch-norm scales 1, biases 0): give every rank-1 variable seeded values
 * (running variances stay positive), so each one changes the outputs. Word embeddings get
 * std 1 (GloVe-like scale) and the recurrent input weights ×3 so the word features are O(1)
 * and the text path weighs as much as the image path, and attention
 * queries and keys are scaled up so attention is far from uniform (its logits matter);
 * the routers' pooling queries (zeros when fresh) get std 2 for the same reason.
 */
function perturbVectors(network: Network, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, v] of network.store.variables) {
    const gain = name === "text.embedding.weight" ? 10 : /^text\.rnn\.weight_ih/.test(name) ? 3 : /\.attn\.[qk]\.weight$/.test(name) ? 4 : 1;
    if (gain !== 1) {
      tf.tidy(() => v.assign(tf.mul(v, gain)));
      continue;
    }
    if (/\.router\.(image|text)_query$/.test(name)) {
      // the routers' pooling queries start at 0 (mean pooling): std 2 makes the pooling far from the mean
      tf.tidy(() => v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => 2 * rng.normal()), v.shape)));
      continue;
    }
    if (v.rank !== 1) continue;
    const values = Float32Array.from(v.dataSync());
    for (let i = 0; i < values.length; i++) {
      values[i] = name.endsWith("running_var") ? 0.5 + rng.next() : values[i]! + 0.2 * rng.normal();
    }
    tf.tidy(() => v.assign(tf.tensor1d(values)));
  }
}

/**
 * A randomly initialised backbone with untrained batch-norm statistics gives region tokens
 * of size ~40, which would drown every normalised module output (JRM's LayerNorm) and the
 * text: scale the 1×1 projection so the reference tokens have RMS 1.
 */
function unitTokens(network: Network, reference: PlainTensor): void {
  const rms = tf.tidy(() => network.image.encode(toTensor(reference) as tf.Tensor4D, evalContext).square().mean().sqrt().dataSync()[0]!);
  for (const name of ["image.proj.weight", "image.proj.bias"]) {
    const v = network.store.variables.get(name);
    if (!v) throw new Error(`exportParity: the network has no "${name}" (the image encoder's 1×1 projection)`);
    tf.tidy(() => v.assign(tf.div(v, rms)));
  }
}

/** Teacher paths: seeded random distributions with the shapes of the network's paths. */
function seededTeacher(network: Network, batch: number, seed: number): PlainTensor[] {
  const rng = new Rng(seed);
  const m = network.layers[0]!.length;
  return network.layers.map((_, l) => {
    const last = l === network.layers.length - 1;
    const shape = [batch, m, last ? 1 : m];
    const data = Float32Array.from({ length: size(shape) }, () => 0.05 + rng.next());
    // normalise: rows over receivers (hidden layers), columns over senders (the last layer)
    for (let b = 0; b < batch; b++) {
      if (last) normalise(data, b * m, m, 1);
      else for (let i = 0; i < m; i++) normalise(data, (b * m + i) * m, m, 1);
    }
    return { dtype: "F32", shape, data };
  });
}

function normalise(data: Float32Array, start: number, count: number, stride: number): void {
  let sum = 0;
  for (let k = 0; k < count; k++) sum += data[start + k * stride]!;
  for (let k = 0; k < count; k++) data[start + k * stride]! /= sum;
}
