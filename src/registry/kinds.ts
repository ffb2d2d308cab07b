// The contract between the registry and what it builds: for each kind of
// registered thing, the context its build function receives and the object it
// returns. Shapes are written (B = batch, N = region tokens, T = words, d = dim).
import type * as tf from "@tensorflow/tfjs";
import type { ForwardContext } from "../nn/context.js";
import type { ParamScope } from "../nn/scope.js";
import type { DatasetBuildContext, DatasetSource, Vocabulary } from "./kinds-data.js";
import type { Loss, LossBuildContext, Optimizer, OptimizerBuildContext, Schedule, ScheduleBuildContext } from "./kinds-training.js";

export type { ForwardContext } from "../nn/context.js";

/** Per kind: the context its build function receives and the object it returns. */
export interface KindContracts {
  module: { context: ModuleBuildContext; built: FusionModule };
  router: { context: RouterBuildContext; built: Router };
  image_encoder: { context: ImageEncoderBuildContext; built: ImageEncoder };
  text_encoder: { context: TextEncoderBuildContext; built: TextEncoder };
  loss: { context: LossBuildContext; built: Loss };
  dataset: { context: DatasetBuildContext; built: Promise<DatasetSource> };
  optimizer: { context: OptimizerBuildContext; built: Optimizer };
  schedule: { context: ScheduleBuildContext; built: Schedule };
}

// ── fusion modules ───────────────────────────────────────────────────────────
export interface FusionInput {
  tokens: tf.Tensor3D; // (B, N, d) the module's input tokens (layer 1: reference region tokens X)
  words: tf.Tensor3D; // (B, T, d) word features W
  wordMask: tf.Tensor2D; // (B, T) float32, 1 for a real word, 0 for padding
  sentence: tf.Tensor2D; // (B, d) sentence feature s
  /**
   * (B, d) the pooled embedding of the input tokens: in the first layer the image encoder's own
   * (CLIP: its projected class token; the mean of X for encoders without one), in later layers the
   * mean of the module's input tokens. Global composition methods (TIRG, ARTEMIS, CLIP4Cir's
   * Combiner) compose it with the sentence.
   */
  pooled: tf.Tensor2D;
}
export interface ModuleBuildContext {
  dim: number;
  scope: ParamScope;
}
export interface FusionModule {
  /** (B, N, d) → (B, N, d) */
  forward(input: FusionInput, fc: ForwardContext): tf.Tensor3D;
}

// ── routers ──────────────────────────────────────────────────────────────────
export interface RouterBuildContext {
  dim: number;
  /** M: modules of the layer being routed (the senders). */
  senders: number;
  /** Modules of the next layer; 1 for the last layer (output weights). */
  receivers: number;
  /** True for the last layer: probabilities then sum to 1 over the senders. */
  final: boolean;
  scope: ParamScope;
}
/** What a router may read beyond the pooled outputs: the tokens themselves and the words. */
export interface RouterRegions {
  /** (M, B, N, d) the outputs of the layer's M modules, module-major */
  tokens: tf.Tensor4D;
  /** (B, T, d) word features */
  words: tf.Tensor3D;
  /** (B, T) float32, 1 = word, 0 = padding */
  mask: tf.Tensor2D;
}
export interface Router {
  /**
   * pooled: (B, M, d) mean-pooled outputs of the layer's M modules; sentence: (B, d);
   * regions: the same outputs unpooled and the words (the compiler always passes them).
   * Returns (B, M, R) probabilities: rows sum to 1 over R in hidden layers; in the
   * last layer R = 1 and the column sums to 1 over M.
   */
  route(pooled: tf.Tensor3D, sentence: tf.Tensor2D, fc: ForwardContext, regions?: RouterRegions): tf.Tensor3D;
}

// ── encoders ─────────────────────────────────────────────────────────────────
/** What every encoder's build reads besides its params: where files are and whether to read them. */
export interface EncoderFiles {
  /** Relative file paths in the params (weights, GloVe) resolve against it: the working directory, as data.root. */
  filesDir: string;
  /**
   * false: a checkpoint will set every weight (sdfn eval, query, --resume), so pretrained files are
   * not read and the encoder reports no `pretrained` source. Default true.
   */
  pretrained?: boolean;
}
/** A file an encoder's weights started from: summary.json's `pretrained`, the report. */
export interface PretrainedSource {
  /** The param that named it (`weights`, `glove`): the recipe key is encoders.<image|text>.<param>. */
  param: string;
  /** Absolute path. */
  file: string;
  sha256: string;
  bytes: number;
  /** What it initialised, e.g. "image.backbone: 318 tensors (torch zip)". */
  loaded: string;
}
/** A file an encoder's params name that its build reads: refused before a run starts when it is missing. */
export interface PretrainedFile {
  /** The param naming it (`weights`, `glove`). */
  param: string;
  /** As the recipe gives it (relative to the working directory). */
  path: string;
  /** How to obtain it: the commands to run, on any machine with internet access. */
  obtain: string;
  /** What a null path means instead, for the message when the file is missing (default: train from scratch). */
  instead?: string;
}
/** What a text encoder's tokenizer is built from besides its params. */
export interface TokenizerContext {
  /** Relative paths in the params resolve against it (the working directory). */
  filesDir: string;
  /** The most tokens a text keeps (data.max_words); the tokenizer truncates to it. */
  maxTokens: number;
}
/** A text encoder's own tokenizer: a vocabulary whose `encode` truncates to the context's maxTokens itself. */
export type Tokenizer = Vocabulary;
export interface ImageEncoderBuildContext extends EncoderFiles {
  dim: number;
  scope: ParamScope;
}
export interface ImageEncoder {
  /**
   * images (B, H, W, 3) normalised → region tokens (B, N, d). Built-ins also accept the
   * backbone's feature maps (B, h, w, featureChannels) here (a feature cache) and then only project.
   */
  encode(images: tf.Tensor4D, fc: ForwardContext): tf.Tensor3D;
  /** Channels of the backbone feature maps (what `project` takes and a feature cache stores). */
  readonly featureChannels?: number;
  /** images (B, H, W, 3) → backbone feature maps (B, h, w, C); absent for `features`. */
  backbone?(images: tf.Tensor4D, fc: ForwardContext): tf.Tensor4D;
  /** feature maps (B, h, w, C) → region tokens (B, h·w, d). */
  project?(maps: tf.Tensor4D, fc: ForwardContext): tf.Tensor3D;
  /** True when no backbone weight trains and its batch norm runs in eval mode: its maps can be cached. */
  readonly backboneFrozen?: boolean;
  /** Side of the token grid for a square input of `size` px (224 → 7 for ResNet); for summaries. */
  grid?(size: number): number;
  /** The file its weights started from; absent when they are random (or a checkpoint's). */
  readonly pretrained?: PretrainedSource;
  /**
   * images (B, H, W, 3) → region tokens (B, N, d) and the encoder's pooled embedding (B, d) in one
   * pass (CLIP: the projected class token). Absent: the pooled embedding is the mean of the tokens.
   * The network's target embedding t is this pooled embedding.
   */
  encodePooled?(images: tf.Tensor4D, fc: ForwardContext): { tokens: tf.Tensor3D; pooled: tf.Tensor2D };
  /** Learning-rate multipliers of its parameters by name prefix (e.g. "image.backbone." → 0.1); see EncoderLrMults. */
  readonly lrMults?: EncoderLrMults;
}
/**
 * Learning-rate multipliers an encoder asks for, keyed by the full parameter-name prefix they apply
 * to ("text.backbone." → 0.1: its pretrained part trains at a tenth of the optimizer's rate; 0 = frozen).
 * The optimizer multiplies each parameter's rate by the multiplier of the longest matching prefix.
 */
export type EncoderLrMults = ReadonlyMap<string, number>;
export interface TextEncoderBuildContext extends EncoderFiles {
  dim: number;
  vocabulary: { size: number; words: readonly string[] };
  scope: ParamScope;
}
/** How a GloVe file covered the vocabulary (words missing from it start random). */
export interface GloveStats {
  file: string;
  found: number;
  missing: number;
  /** Up to 20 missing words, for the log. */
  missingExamples: string[];
}
export interface TextEncoder {
  /** Present when the embeddings were initialised from GloVe. */
  readonly glove?: GloveStats;
  /** The file its weights started from (GloVe); absent when they are random (or a checkpoint's). */
  readonly pretrained?: PretrainedSource;
  /** Learning-rate multipliers of its parameters by name prefix (see EncoderLrMults). */
  readonly lrMults?: EncoderLrMults;
  /** tokens (B, T) int32, mask (B, T) float32 → word features (B, T, d) and sentence (B, d). */
  encode(
    tokens: tf.Tensor2D,
    mask: tf.Tensor2D,
    fc: ForwardContext,
  ): { words: tf.Tensor3D; sentence: tf.Tensor2D };
}
