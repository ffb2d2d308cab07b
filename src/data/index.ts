// Opening a recipe's dataset: build the declared dataset, refuse missing images
// before anything trains, build (or take) the vocabulary, and make the loader.
import { resolve } from "node:path";
import { z } from "zod";
import { RegistryError, type Registry } from "../registry/registry.js";
import { DataError } from "./data-error.js";
import { checkDataPaths, dataPathKeys } from "./data-paths.js";
import { createLoader } from "./loader.js";
import { imageParams, loaderParams, textParams } from "./params.js";
import type { Baselines, BatchLoader, DatasetSource, EvalSet, Pair, Vocabulary } from "./types.js";
import { buildVocabulary } from "./vocabulary.js";
import { badImagesMessage, decodeAll, imageIds, type Progress } from "./check-images.js";
import { dropMissingImages, missingImagesPolicy, type MissingImagesRecord } from "./missing-images.js";

export type * from "./types.js";
export type { Progress } from "./check-images.js";
export { buildVocabulary, loadVocabulary, saveVocabulary, vocabularyFromJSON, tokenize, countUnknown } from "./vocabulary.js";
export { FeatureCache, imageCacheKey, fileHash, type CachedFeatures, type EncoderIdentity } from "./feature-cache.js";
export { cachedBackbone, type CachedBackbone } from "./backbone-cache.js";
export { datasetStatistics, type DataStatistics } from "./stats.js";
export { DataError } from "./data-error.js";
export { ALLOW_OUTSIDE_ROOT_FLAG } from "./data-paths.js";
export { missingImagesLine, NOT_COMPARABLE, type KeptDropped, type MissingImagesPolicy, type MissingImagesRecord } from "./missing-images.js";

/** The part of a recipe the data area reads (the full Recipe type satisfies it). */
export interface RecipeData {
  seed: number;
  data: { dataset: string } & Record<string, unknown>;
}

export interface OpenDataset {
  /** Built from training captions, or the one given (a resumed run's). */
  vocabulary: Vocabulary;
  train: Pair[];
  /** One per category / protocol group. */
  evalSets: EvalSet[];
  loader: BatchLoader;
  /** Absolute file of an image id (undefined for generated images): the feature cache keys on it. */
  imagePath(id: string): string | undefined;
  /** The dataset's parameters, every default filled. */
  params: Record<string, unknown>;
  /** The dataset's single-modality baselines per evaluation set, when it has them (shapes). */
  baselines?: Baselines;
  /** With data.missing_images: skip, what the missing images took with them (per split and category). */
  missingImages?: MissingImagesRecord;
}

/** What the loader and the vocabulary read from a dataset's params (defaults: the shared schema, data/params.ts). */
const LOADING = z.object({
  image_size: imageParams.image_size,
  min_count: textParams.min_count,
  max_words: textParams.max_words,
  prefetch: loaderParams.prefetch,
  decode_concurrency: loaderParams.decode_concurrency,
  feature_cache: loaderParams.feature_cache,
  check_images: loaderParams.check_images,
});

/** The loading params of a dataset's parsed params: every built-in has them; a plugin's that lacks one gets the shared default. */
export const loadingParams = (params: Record<string, unknown>) => LOADING.parse(params);

export interface DataOptions {
  /** Relative data paths resolve against it; default: process.cwd(). */
  cwd?: string;
  /** Read data paths outside data.root (the user's --allow-outside-root; src/data/data-paths.ts). Default false. */
  allowOutsideRoot?: boolean;
}

export interface OpenOptions extends DataOptions {
  /** The vocabulary to use (a resumed run's); default: built from the training captions. */
  vocabulary?: Vocabulary;
  /** Before training: with data.check_images: full, decode every image once and refuse bad ones (all named). */
  checkImages?: boolean;
  /** Progress of that check. */
  onProgress?: (p: Progress) => void;
}

/**
 * Builds the recipe's dataset declaration without checking images (statistics use this). With
 * data.missing_images: skip the source comes without what its missing images take with them;
 * `missingImages` counts that (under error: what skip would drop).
 */
export async function loadDatasetSource(
  recipe: RecipeData,
  registry: Registry,
  opts: DataOptions = {},
): Promise<{ source: DatasetSource; params: Record<string, any>; missingImages: MissingImagesRecord }> {
  let resolved;
  try {
    resolved = registry.resolve("dataset", recipe.data, "data");
  } catch (err) {
    throw err instanceof RegistryError ? new DataError(err.message) : err;
  }
  const { declaration, params } = resolved;
  const cwd = resolve(opts.cwd ?? process.cwd());
  const allowOutsideRoot = opts.allowOutsideRoot ?? false;
  // The path parameters (captions_file, labels_dir, …) stay under data.root before any file is read.
  if (typeof params.root === "string") checkDataPaths(params, dataPathKeys(declaration.params), resolve(cwd, params.root), allowOutsideRoot);
  const built = await declaration.build(params, { seed: recipe.seed, cwd, allowOutsideRoot });
  const policy = missingImagesPolicy(params);
  const { source: kept, record } = dropMissingImages(built, policy);
  return { source: policy === "skip" ? kept : built, params, missingImages: record };
}

/** "N of the images are missing…" with the first few paths, or undefined when none are. */
export function missingImagesMessage(dataset: string, source: DatasetSource): string | undefined {
  const n = source.missing.length;
  if (n === 0) return undefined;
  const first = source.missing.slice(0, 5).map((p) => `\n  ${p}`).join("");
  const more = n > 5 ? `\n  … and ${n - 5} more` : "";
  const where = source.root ? ` under ${source.root}` : "";
  return (
    `${dataset}: ${n} image${n === 1 ? " is" : "s are"} missing${where}:${first}${more}\n` +
    `Check data.root (relative paths resolve against the working directory) and the image folder parameters, and download the images ` +
    `(docs/datasets.md says where each dataset's come from); or set data.missing_images: skip to leave out the pairs and queries ` +
    `whose images are missing (counted, and the evaluation marked not comparable to published numbers).`
  );
}

/** Opens the recipe's dataset for training and evaluation (contracts.md "Data"). */
export async function openDataset(
  recipe: RecipeData,
  registry: Registry,
  opts: OpenOptions = {},
): Promise<OpenDataset> {
  const { source, params, missingImages } = await loadDatasetSource(recipe, registry, opts);
  const missing = missingImages.policy === "error" ? missingImagesMessage(recipe.data.dataset, source) : undefined;
  if (missing) throw new DataError(missing);
  const loading = loadingParams(params);
  if (opts.checkImages && loading.check_images === "full") {
    const ids = imageIds(source);
    const bad = badImagesMessage(recipe.data.dataset, await decodeAll(ids, source, loading.decode_concurrency, opts.onProgress), ids.length);
    if (bad) throw new DataError(bad);
  }
  const vocabulary = opts.vocabulary ?? buildVocabulary(source.train.map((p) => p.text), loading.min_count);
  const loader = createLoader(source.images, vocabulary, loading);
  return {
    vocabulary,
    train: source.train,
    evalSets: source.evalSets,
    loader,
    imagePath: (id) => source.images.path(id),
    params,
    baselines: source.baselines,
    ...(missingImages.policy === "skip" ? { missingImages } : {}),
  };
}
