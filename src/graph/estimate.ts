// How much memory a recipe's training needs, from the recipe alone, in well under a second:
// `sdfn validate` and `sdfn build` refuse a recipe over the machine's memory (or
// training.max_memory) before anything allocates (fusion.layers: 100000 or dim: 1e9 would
// otherwise run for minutes or die with "Invalid typed array length").
//
// Parameters are counted exactly: every declaration is built through the registry with a
// scope that records parameter shapes and allocates nothing (fusion layers differ only in
// the last one's router, so one hidden layer and the last are built and the rest multiplied).
// Training memory = parameters × 4 (weights, gradients, Adam's two moments) + activations: the
// float32 tensors one step holds at its peak, modelled per part below (README: "When a recipe is wrong").
import { totalmem } from "node:os";
import type * as tf from "@tensorflow/tfjs";
import { CLIP_RESNETS } from "../encoders/clip-resnet.js";
import { CLIP_VITS } from "../encoders/clip-vit.js";
import { RESNET_DEPTHS, type ResnetName } from "../encoders/resnet.js";
import { ParamScope, type Init, type ParamStore } from "../nn/scope.js";
import type { Registry } from "../registry/registry.js";
import type { NetworkRecipe, Typed } from "./compile.js";

/** A scope whose parameters are only counted (no tensor, no initialiser run). */
class CountingScope extends ParamScope {
  constructor(
    readonly tally: { count: number },
    path = "",
  ) {
    super(undefined as unknown as ParamStore, path);
  }

  override child(name: string): ParamScope {
    return new CountingScope(this.tally, this.qualify(name));
  }

  override param(_name: string, shape: number[], _init: Init): tf.Variable {
    this.tally.count += shape.reduce((a, b) => a * b, 1);
    return PLACEHOLDER;
  }
}

// Builders keep their variables for the forward pass, which a counting build never runs.
const PLACEHOLDER = Object.freeze({ shape: [] }) as unknown as tf.Variable;

/** What a recipe's estimate reads besides the network: the batch, image and text sizes. */
export interface EstimateRecipe extends NetworkRecipe {
  readonly data: { readonly image_size?: number; readonly max_words?: number } & { readonly [key: string]: unknown };
  readonly training: { readonly batch_size: number };
}

/** The parts of a network the estimate counts separately. */
export type Part = "image" | "text" | "fusion";

export interface MemoryEstimate {
  /** Parameters by part. */
  parameters: Record<Part, number> & { total: number };
  /** Bytes of weights, gradients and the optimizer's two moments (4 × 4 bytes a parameter). */
  parameterBytes: number;
  /** Bytes of the tensors one training step holds at its peak (forward outputs and gradients), by part. */
  activations: Record<Part, number>;
  activationBytes: number;
  totalBytes: number;
}

/** Vocabulary size assumed before a dataset is read (the real one replaces it when known). */
export const ASSUMED_VOCABULARY = 10_000;
const FLOAT = 4;
/** Weights, gradients, Adam's m and v. */
const COPIES_PER_PARAMETER = 4;
/**
 * The tensors modelled below are those a step's backward needs; tfjs's tape keeps every op's output
 * (transposes, broadcasts, batch-norm and softmax intermediates are copies) and the backward pass
 * allocates its gradients while they live. One step's measured peak over the modelled tensors:
 * 6.3× (quickstart, batch 16) and 7.3× (tiny recipe, 32 px), cpu backend (test/graph/estimate.test.ts).
 */
const TAPE_FACTOR = 6;

/** The memory one training step of `recipe` needs. Throws when a declaration cannot be built from its params. */
export function estimateMemory(recipe: EstimateRecipe, registry: Registry, vocabularySize = ASSUMED_VOCABULARY): MemoryEstimate {
  const { params: imageParams } = registry.resolve("image_encoder", recipe.encoders.image, "encoders.image");
  const dim = Number(imageParams.dim);
  const count = (build: (scope: ParamScope) => unknown): number => {
    const scope = new CountingScope({ count: 0 });
    build(scope);
    return (scope as CountingScope).tally.count;
  };
  // Encoders read no file here: a checkpoint or a pretrained file would only set values.
  const files = { filesDir: process.cwd(), recipeDir: process.cwd(), pretrained: false };
  const vocabulary = { size: vocabularySize, words: [] as string[] };
  const image = count((scope) => registry.build("image_encoder", recipe.encoders.image, { dim, scope, ...files } as never, "encoders.image"));
  const text = count((scope) => registry.build("text_encoder", recipe.encoders.text, { dim, scope, vocabulary, ...files } as never, "encoders.text"));
  const { layers, modules, router } = recipe.fusion;
  const layer = (final: boolean) =>
    count((scope) => {
      modules.forEach((spec, i) => registry.build("module", spec, { dim, scope: scope.child(`modules.${i}`) }, `fusion.modules.${i}`));
      const receivers = final ? 1 : modules.length;
      registry.build("router", router, { dim, senders: modules.length, receivers, final, scope: scope.child("router") }, "fusion.router");
    });
  const fusion = (layers > 1 ? layer(false) * (layers - 1) : 0) + layer(true);
  const total = image + text + fusion;
  const acts = activations(recipe, registry, dim);
  const activationBytes = (acts.image + acts.text + acts.fusion) * FLOAT;
  const parameterBytes = total * COPIES_PER_PARAMETER * FLOAT;
  const activationsBytes = { image: acts.image * FLOAT, text: acts.text * FLOAT, fusion: acts.fusion * FLOAT };
  return {
    parameters: { image, text, fusion, total },
    parameterBytes,
    activations: activationsBytes,
    activationBytes,
    totalBytes: parameterBytes + activationBytes,
  };
}

/** Floats one training step holds, by part: both images through the encoder, the texts, every fusion layer. */
function activations(recipe: EstimateRecipe, registry: Registry, dim: number): Record<Part, number> {
  const b = recipe.training.batch_size;
  const size = recipe.data.image_size ?? 224;
  const words = recipe.data.max_words ?? 32;
  const { params: imageParams } = registry.resolve("image_encoder", recipe.encoders.image, "encoders.image");
  const { map, tokens } = imageActivations(recipe.encoders.image.type, imageParams, size);
  const image = 2 * (map + tokens * dim); // reference and target, then the projection to d
  const { params: textParams } = registry.resolve("text_encoder", recipe.encoders.text, "encoders.text");
  const text = textActivations(recipe.encoders.text.type, textParams, words, dim);
  const m = recipe.fusion.modules.length;
  // Per layer: each module's kept tensors, then the router's stacked outputs and mixed inputs (2·M·N·d).
  const perLayer = recipe.fusion.modules.reduce((sum, spec) => sum + moduleActivations(spec, tokens, words, dim), 0) + 2 * m * tokens * dim;
  const step = b * TAPE_FACTOR;
  return { image: step * image, text: step * text, fusion: step * recipe.fusion.layers * perLayer };
}

/** Per image: the backbone's kept maps (conv, batch norm and ReLU outputs) and the token count N. */
function imageActivations(type: string, p: Record<string, unknown>, size: number): { map: number; tokens: number } {
  const side = (s: number, stride: number) => Math.ceil(s / stride);
  if (type in RESNET_DEPTHS) {
    const { block, layers } = RESNET_DEPTHS[type as ResnetName];
    let map = 3 * side(size, 2) ** 2 * 64 + side(size, 4) ** 2 * 64; // stem conv/bn/relu at /2, max pool at /4
    layers.forEach((blocks, s) => {
      const r2 = side(size, 4 * 2 ** s) ** 2;
      const w = 64 * 2 ** s;
      // basic: 2 × (conv, bn, relu) of width w + the sum; bottleneck: w, w, 4w wide + the sum
      map += blocks * (block === "basic" ? 7 * r2 * w : 3 * r2 * (w + w + 4 * w) + 4 * r2 * w);
    });
    return { map, tokens: side(size, 32) ** 2 };
  }
  if (type === "small_cnn") {
    const channels = (p.channels as number[] | undefined) ?? [];
    const map = channels.reduce((sum, c, i) => sum + 3 * side(size, 2 ** (i + 1)) ** 2 * c, 0);
    return { map, tokens: side(size, 2 ** channels.length) ** 2 };
  }
  if (type === "features") return { map: 0, tokens: 49 }; // stored 7×7 maps
  if (type in CLIP_RESNETS) {
    // the 3-conv stem at /2 (conv, bn, relu each), then bottlenecks as ResNet's with width·2^s planes
    const w = Number(p.width);
    let map = 3 * side(size, 2) ** 2 * (w / 2 + w / 2 + w) + side(size, 4) ** 2 * w;
    (p.layers as number[]).forEach((blocks, s) => {
      const r2 = side(size, 4 * 2 ** s) ** 2;
      const planes = w * 2 ** s;
      map += blocks * (3 * r2 * 6 * planes + 4 * r2 * planes);
    });
    const tokens = side(size, 32) ** 2;
    return { map: map + 4 * (tokens + 1) * w * 32, tokens }; // + the attention pooling's q, k, v and output
  }
  if (type in CLIP_VITS) {
    const tokens = Math.floor(size / Number(p.patch)) ** 2;
    return { map: transformerActivations(p, tokens + 1) + (tokens + 1) * Number(p.embed_dim), tokens };
  }
  // An encoder without a model here (a plugin's): a 64-channel map at full resolution, 7×7 tokens.
  return { map: 3 * size * size * 64, tokens: 49 };
}

/**
 * CLIP's transformer over `length` positions, per block: the two norms, q/k/v, the attention
 * weights of every head, the output projection, the MLP's 4w hidden layer and its QuickGELU.
 */
function transformerActivations(p: Record<string, unknown>, length: number): number {
  const w = Number(p.width);
  return Number(p.layers) * length * (16 * w + 2 * Number(p.heads) * length);
}

/** Per text: embeddings, the gates and states of each step, the projection to d. */
function textActivations(type: string, p: Record<string, unknown>, words: number, dim: number): number {
  if (type === "clip_text") return transformerActivations(p, Math.min(words, Number(p.context_length))) + words * (Number(p.embed_dim) + dim);
  const hidden = Number(p.hidden ?? dim);
  const embedding = Number(p.embedding_dim ?? 300);
  const gates = type === "gru" ? 3 : 4;
  const directions = type === "bilstm" ? 2 : 1;
  return words * (embedding + directions * (gates + 3) * hidden + dim);
}

/** Per fusion module instance: its kept tensors for N tokens (T words for cross attention). */
function moduleActivations(spec: Typed, tokens: number, words: number, dim: number): number {
  const nd = tokens * dim;
  const heads = Number(spec.heads ?? 8);
  const ffn = Number(spec.ffn_mult ?? 4);
  switch (spec.type) {
    case "JRM": // input projection, q/k/v, attention weights over N+1 keys, output, 2 norms, the FFN's hidden layer
      return nd * 8 + heads * tokens * (tokens + 1) * 2 + 2 * ffn * nd;
    case "CAM": // the same with keys and values from the T words
      return nd * 8 + heads * tokens * words * 2 + 2 * ffn * nd;
    case "GTM": // γ ⊙ x + β
      return 3 * nd;
    case "RCM":
      return 0;
    case "TIRG": { // [x; s], both MLPs' hidden layers and outputs, per token or once (then laid over the N tokens)
      const hidden = Number(spec.hidden_mult ?? 2) * dim;
      const per = 2 * dim + 4 * hidden + 4 * dim;
      return spec.apply_to === "tokens" ? tokens * per : per + 2 * nd;
    }
    case "ARTEMIS": // two channel attentions, the transform, normalisations: a few d-vectors, then laid over the tokens
      return 12 * dim + 2 * nd;
    case "Combiner": { // the projections, the combining layer, λ's hidden layer (with ReLU and dropout each)
      const width = Number(spec.projection_mult ?? 4) * dim;
      const hidden = Number(spec.hidden_mult ?? 8) * dim;
      return 6 * width + 6 * hidden + 4 * dim + 2 * nd;
    }
    default: // a plugin's module: as much as an attention module
      return nd * 8 + 2 * ffn * nd;
  }
}

/** "4.2 GiB" */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === units.length - 1 && value >= 1024 ? `${bytes.toExponential(1)} B` : `${value.toFixed(value < 10 && unit > 0 ? 1 : 0)} ${units[unit]}`;
}

/** "1.2 G" parameters */
export function formatCount(n: number): string {
  if (n >= 1e12) return `${n.toExponential(1)}`;
  for (const [limit, suffix] of [[1e9, "G"], [1e6, "M"], [1e3, "k"]] as const) if (n >= limit) return `${(n / limit).toFixed(1)} ${suffix}`;
  return String(n);
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/;
const UNIT: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/** Bytes of a size text such as "24GiB" or "16 GB" (training.max_memory). */
export function parseSize(text: string): number {
  const m = SIZE.exec(text.trim());
  if (!m) throw new Error(`not a size: ${text}`);
  return Number(m[1]) * UNIT[m[2]!]!;
}
export const SIZE_PATTERN = SIZE;

export interface MemoryCheck {
  estimate: MemoryEstimate;
  budget: number;
  /** Where the budget comes from: "training.max_memory" or "this machine's memory". */
  budgetSource: string;
  /** Over budget: the recipe key to change and the message; undefined when it fits. */
  over?: { path: (string | number)[]; message: string };
}

/** The estimate against training.max_memory (or the machine's memory), and what to change when over. */
export function checkMemory(recipe: EstimateRecipe & { training: { max_memory?: string } }, registry: Registry, vocabularySize?: number): MemoryCheck {
  const estimate = estimateMemory(recipe, registry, vocabularySize);
  const given = recipe.training.max_memory;
  const budget = given ? parseSize(given) : totalmem();
  const budgetSource = given ? `training.max_memory (${given})` : `this machine's memory (${formatBytes(budget)})`;
  if (estimate.totalBytes <= budget) return { estimate, budget, budgetSource };
  const { parameters: p } = estimate;
  const parts = `${formatCount(p.total)} parameters: ${formatBytes(estimate.parameterBytes)} with gradients and Adam's moments; activations ${formatBytes(estimate.activationBytes)} at batch ${recipe.training.batch_size}`;
  const path = keyToChange(recipe, estimate);
  const batch = estimate.activationBytes > estimate.parameterBytes && path.join(".") !== "training.batch_size" ? " or training.batch_size" : "";
  const message =
    `the recipe needs about ${formatBytes(estimate.totalBytes)} to train (${parts}), more than ${budgetSource}; ` +
    `lower ${path.join(".")} (the largest part)${batch}, or set training.max_memory to the memory of the machine it is for`;
  return { estimate, budget, budgetSource, over: { path, message } };
}

const MANY_LAYERS = 8;

/** The recipe key behind the largest part of the estimate (its parameters and activations together). */
function keyToChange(recipe: EstimateRecipe, e: MemoryEstimate): (string | number)[] {
  const bytes = (part: Part) => e.parameters[part] * COPIES_PER_PARAMETER * FLOAT + e.activations[part];
  const largest = (["fusion", "image", "text"] as const).reduce((a, b) => (bytes(b) > bytes(a) ? b : a));
  // Fusion grows with the layer count, and with d² per layer: more layers than the paper's few point at the count.
  if (largest === "fusion") return recipe.fusion.layers > MANY_LAYERS ? ["fusion", "layers"] : ["encoders", "image", "dim"];
  if (largest === "text") return "hidden" in recipe.encoders.text ? ["encoders", "text", "hidden"] : ["encoders", "text"];
  const imageParams = e.parameters.image * COPIES_PER_PARAMETER * FLOAT;
  return e.activations.image > imageParams ? ["data", "image_size"] : ["encoders", "image", "dim"];
}
