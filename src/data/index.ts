// Opening a recipe's dataset: build the declared dataset, refuse missing images
// before anything trains, build (or take) the vocabulary, and make the loader.
import { resolve } from "node:path";
import type { Registry } from "../registry/registry.js";
import { createLoader } from "./loader.js";
import type { BatchLoader, DatasetSource, EvalSet, Pair, Vocabulary } from "./types.js";
import { buildVocabulary } from "./vocabulary.js";

export type * from "./types.js";
export { defineDataset } from "./dataset.js";
export { buildVocabulary, loadVocabulary, saveVocabulary, vocabularyFromJSON, tokenize, countUnknown } from "./vocabulary.js";
export { FeatureCache, imageCacheKey, fileHash, type CachedFeatures, type EncoderIdentity } from "./feature-cache.js";
export { cachedBackbone, type CachedBackbone } from "./backbone-cache.js";
export { datasetStatistics, type DataStatistics } from "./stats.js";

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
}

/** A problem with the data on disk or the data section: printed without a stack trace. */
export class DataError extends Error {}

export interface DataOptions {
  /** Relative data paths resolve against it; default: process.cwd(). */
  cwd?: string;
}

/** Builds the recipe's dataset declaration without checking images (statistics use this). */
export async function loadDatasetSource(
  recipe: RecipeData,
  registry: Registry,
  opts: DataOptions = {},
): Promise<{ source: DatasetSource; params: Record<string, any> }> {
  const { dataset, ...rest } = recipe.data;
  const declaration = registry.get("dataset", dataset);
  if (!declaration) {
    throw new DataError(`data.dataset: unknown dataset "${dataset}"; registered: ${registry.names("dataset").join(", ")}`);
  }
  const parsed = declaration.params.safeParse(rest);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `data.${i.path.join(".")}: ${i.message}`);
    throw new DataError(`invalid data section for dataset "${dataset}":\n  ${problems.join("\n  ")}`);
  }
  const params = parsed.data as Record<string, any>;
  const source = (await declaration.build(params, { seed: recipe.seed, cwd: resolve(opts.cwd ?? process.cwd()) })) as DatasetSource;
  return { source, params };
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
    `Check data.root (relative paths resolve against the working directory) and the image folder parameters, or download the images (DESIGN.md §3).`
  );
}

/** Opens the recipe's dataset for training and evaluation (contracts.md "Data"). */
export async function openDataset(
  recipe: RecipeData,
  registry: Registry,
  opts: DataOptions & { vocabulary?: Vocabulary } = {},
): Promise<OpenDataset> {
  const { source, params } = await loadDatasetSource(recipe, registry, opts);
  const missing = missingImagesMessage(recipe.data.dataset, source);
  if (missing) throw new DataError(missing);
  const vocabulary = opts.vocabulary ?? buildVocabulary(source.train.map((p) => p.text), params.min_count ?? 1);
  const loader = createLoader(source.images, vocabulary, {
    image_size: params.image_size ?? 224,
    max_words: params.max_words ?? 32,
    prefetch: params.prefetch ?? 3,
    decode_concurrency: params.decode_concurrency ?? 8,
  });
  return {
    vocabulary,
    train: source.train,
    evalSets: source.evalSets,
    loader,
    imagePath: (id) => source.images.path(id),
    params,
  };
}
