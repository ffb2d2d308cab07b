// The graph compiler: a validated recipe → a trainable Network (docs/model.md). Every parameter
// lives in one ParamStore under a stable dotted name (docs/weights.md):
//   image.*  text.*  fusion.layers.{l}.modules.{i}.*  fusion.layers.{l}.router.*
import * as tf from "@tensorflow/tfjs";
import { PretrainedFileError } from "../encoders/pretrained.js";
import { ParamStore } from "../nn/scope.js";
import { unstack } from "../nn/unstack.js";
import type { ForwardContext } from "../nn/context.js";
import type { Registry } from "../registry/registry.js";
import type { EncoderFiles, FusionModule, ImageEncoder, Router, TextEncoder } from "../registry/kinds.js";

/** A registered thing as a recipe names it: `{ type, ...params }`. */
export type Typed = { readonly type: string } & { readonly [key: string]: unknown };

/** The part of a Recipe (src/recipe) the compiler reads; a validated Recipe is one. */
export interface NetworkRecipe {
  readonly seed?: number;
  readonly data?: { readonly image_size?: number } & { readonly [key: string]: unknown };
  readonly encoders: { readonly image: Typed; readonly text: Typed };
  readonly fusion: { readonly layers: number; readonly modules: readonly Typed[]; readonly router: Typed };
}

export interface CompileOptions extends EncoderFiles {
  vocabulary: { size: number; words: readonly string[] };
}

export interface QueryOutput {
  /** (B, d) q = average-pooled final fused tokens f̄ */
  query: tf.Tensor2D;
  /** (B, N, d) f */
  tokens: tf.Tensor3D;
  /** L entries: layer l < L−1 (B, M, M), rows sum to 1; last (B, M, 1) w, sums to 1 over M. */
  paths: tf.Tensor3D[];
  /** (B, M, d) average-pooled inputs of the last layer's modules */
  lastInputs: tf.Tensor3D;
}

export interface QueryInput {
  /** (B, H, W, 3) normalised pixels, or backbone feature maps (B, h, w, C) */
  reference: tf.Tensor4D;
  /** (B, T) int32 word ids */
  tokens: tf.Tensor2D;
  /** (B, T) float32, 1 = word, 0 = padding */
  mask: tf.Tensor2D;
}

/** What the recipe asked for, by part (for summaries and logs). */
export interface NetworkSpec {
  image: Typed;
  text: Typed;
  router: Typed;
  modules: Typed[];
  imageSize?: number;
}

export interface FusionLayer {
  modules: FusionModule[];
  router: Router;
}

export interface Network {
  store: ParamStore;
  dim: number;
  /** Module type names per layer. */
  layers: string[][];
  spec: NetworkSpec;
  image: ImageEncoder;
  text: TextEncoder;
  fusion: FusionLayer[];
  /** Learning-rate multipliers the encoders ask for, by full parameter-name prefix (the optimizer reads them). */
  lrMults: ReadonlyMap<string, number>;
  encodeQuery(input: QueryInput, fc: ForwardContext): QueryOutput;
  /** (B, d) the target t: the image encoder's pooled embedding (average-pooled tokens unless it defines one) */
  encodeTarget(images: tf.Tensor4D, fc: ForwardContext): tf.Tensor2D;
  dispose(): void;
}

/** Builds the network of `recipe`: encoders, L layers × M modules, one router per layer. */
export function compileNetwork(recipe: NetworkRecipe, registry: Registry, opts: CompileOptions): Network {
  const store = new ParamStore(recipe.seed ?? 0);
  try {
    return assemble(recipe, registry, opts, store);
  } catch (err) {
    store.dispose();
    throw err;
  }
}

/** Builds an encoder; a problem with a pretrained file it names is reported at its recipe key (encoders.image.weights). */
function atKey<T>(where: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    throw err instanceof PretrainedFileError ? err.at(where) : err;
  }
}

function assemble(recipe: NetworkRecipe, registry: Registry, opts: CompileOptions, store: ParamStore): Network {
  const root = store.root();
  const { params: imageParams } = registry.resolve("image_encoder", recipe.encoders.image, "encoders.image");
  const dim = imageParams.dim;
  if (typeof dim !== "number" || !Number.isInteger(dim) || dim <= 0) {
    throw new Error(`encoders.image (${recipe.encoders.image.type}): needs an integer "dim" (the fusion width d), got ${String(dim)}`);
  }
  const files: EncoderFiles = { filesDir: opts.filesDir, pretrained: opts.pretrained ?? true };
  const image = atKey("encoders.image", () => registry.build("image_encoder", recipe.encoders.image, { dim, scope: root.child("image"), ...files }, "encoders.image"));
  const text = atKey("encoders.text", () =>
    registry.build("text_encoder", recipe.encoders.text, { dim, vocabulary: opts.vocabulary, scope: root.child("text"), ...files }, "encoders.text"),
  );

  const { layers: count, modules: moduleSpecs, router: routerSpec } = recipe.fusion;
  if (!Number.isInteger(count) || count < 1) throw new Error(`fusion.layers: expected an integer ≥ 1, got ${count}`);
  if (moduleSpecs.length < 1) throw new Error("fusion.modules: list at least one module");
  const m = moduleSpecs.length;
  const fusion: FusionLayer[] = Array.from({ length: count }, (_, l) => {
    const layerScope = root.child(`fusion.layers.${l}`);
    const modules = moduleSpecs.map((spec, i) =>
      registry.build("module", spec, { dim, scope: layerScope.child(`modules.${i}`) }, `fusion.modules.${i}`),
    );
    const final = l === count - 1;
    const router = registry.build(
      "router",
      routerSpec,
      { dim, senders: m, receivers: final ? 1 : m, final, scope: layerScope.child("router") },
      "fusion.router",
    );
    return { modules, router };
  });

  const moduleNames = moduleSpecs.map((s) => s.type);
  return {
    store,
    dim,
    layers: fusion.map(() => [...moduleNames]),
    spec: {
      image: recipe.encoders.image,
      text: recipe.encoders.text,
      router: routerSpec,
      modules: [...moduleSpecs],
      imageSize: recipe.data?.image_size,
    },
    image,
    text,
    fusion,
    lrMults: new Map([...(image.lrMults ?? []), ...(text.lrMults ?? [])]),
    encodeQuery: (input, fc) =>
      // tidy keeps the tensors nested in the returned object (its arrays included)
      tf.tidy(() => fuse(fusion, moduleNames, dim, image, text, input, fc) as unknown as tf.TensorContainer) as unknown as QueryOutput,
    encodeTarget: (images, fc) => tf.tidy(() => encodeImage(image, images, fc).pooled),
    dispose: () => store.dispose(),
  };
}

/** Region tokens X (B, N, d) and the pooled embedding (B, d): the encoder's own, else the mean of X. */
function encodeImage(image: ImageEncoder, images: tf.Tensor4D, fc: ForwardContext): { tokens: tf.Tensor3D; pooled: tf.Tensor2D } {
  if (image.encodePooled) return image.encodePooled(images, fc);
  const tokens = image.encode(images, fc);
  return { tokens, pooled: tokens.mean(1) as tf.Tensor2D };
}

/** The query path of docs/model.md §4: X, (W, s) → L routed layers → f, q. */
function fuse(
  fusion: FusionLayer[],
  names: string[],
  dim: number,
  image: ImageEncoder,
  text: TextEncoder,
  { reference, tokens, mask }: QueryInput,
  fc: ForwardContext,
): QueryOutput {
  const { tokens: x, pooled } = encodeImage(image, reference, fc); // (B, N, d), (B, d)
  const [b, n] = x.shape;
  const { words, sentence } = text.encode(tokens, mask, fc); // (B, T, d), (B, d)
  const m = names.length;
  let inputs: tf.Tensor3D[] = names.map(() => x); // layer 1: every module takes X
  // layer 1: the encoder's pooled embedding; later layers: the mean of each module's input
  let pooledInputs: tf.Tensor2D[] = names.map(() => pooled);
  const paths: tf.Tensor3D[] = [];
  let fused: tf.Tensor3D | null = null;
  let lastInputs: tf.Tensor3D | null = null;
  fusion.forEach(({ modules, router }, l) => {
    const outputs = modules.map((module, i) => {
      const y = module.forward({ tokens: inputs[i]!, words, wordMask: mask, sentence, pooled: pooledInputs[i]! }, fc);
      if (y.shape.length !== 3 || y.shape[0] !== b || y.shape[1] !== n || y.shape[2] !== dim) {
        throw new Error(`fusion.layers.${l}.modules.${i} (${names[i]}) returned shape [${y.shape}], expected [${b}, ${n}, ${dim}]`);
      }
      return y;
    });
    // Layouts: slices along the leading axis are contiguous copies on the cpu backend, so
    // outputs are stacked module-major and turned batch-major only for the mixing matMul.
    const stacked = tf.stack(outputs); // (M, B, N, d)
    const pooled = stacked.mean(2).transpose([1, 0, 2]) as tf.Tensor3D; // (B, M, d)
    const p = router.route(pooled, sentence, fc, { tokens: stacked as tf.Tensor4D, words, mask }); // (B, M, R)
    paths.push(p);
    // receiver j takes Σ_i p_{i→j} y_i: (B, R, M) × (B, M, N·d) → (B, R, N·d)
    const y = stacked.reshape([m, b, n * dim]).transpose([1, 0, 2]) as tf.Tensor3D;
    const mixed = tf.matMul(p, y, true, false);
    if (l < fusion.length - 1) {
      // receiver-major again, so each receiver's input is one contiguous block
      inputs = unstack<tf.Tensor2D>(mixed.transpose([1, 0, 2]), 0).map((t) => t.reshape([b, n, dim]) as tf.Tensor3D);
      pooledInputs = inputs.map((t) => t.mean(1) as tf.Tensor2D);
    } else {
      // (B, M, d), the means taken here as before pooledInputs existed: reusing those (the same values)
      // rounds differently on torch's replay and moved the quickstart's seed-0 recall
      lastInputs = tf.stack(inputs.map((t) => t.mean(1))).transpose([1, 0, 2]) as tf.Tensor3D;
      fused = mixed.reshape([b, n, dim]) as tf.Tensor3D; // f = Σ_i w_i y^L_i
    }
  });
  return { query: fused!.mean(1) as tf.Tensor2D, tokens: fused!, paths, lastInputs: lastInputs! };
}
