// Frozen-backbone training with the feature cache (data.feature_cache): when the
// image encoder's backbone is frozen, its feature maps of every image are computed
// once, stored, and fed to the network instead of pixels (the encoder then only
// projects them). The cache key covers the encoder, its parameters, the image
// preprocessing and the weights file, so a changed recipe never reads stale maps.
import { resolve } from "node:path";
import { cachedBackbone, fileHash, FeatureCache, loadingParams, type OpenDataset } from "../data/index.js";
import { inference } from "../nn/context.js";
import type { Network } from "../graph/compile.js";
import type { LoadedRecipe } from "../recipe/index.js";

/** The keys of `data` that change what a backbone sees. */
const PREPROCESSING = ["image_size", "resize", "pad_square", "mean", "std"] as const;

/** A cached-backbone source of batches and evaluation images, or null when data.feature_cache is empty. */
export async function featureSource(loaded: LoadedRecipe, dataset: OpenDataset, net: Network) {
  const dir = loadingParams(dataset.params).feature_cache;
  if (!dir) return null;
  const { dim: _dim, ...encoder } = loaded.recipe.encoders.image as Record<string, unknown>; // dim only changes the projection
  // the weights file is relative to the working directory, as data.root
  const weights = typeof encoder.weights === "string" && encoder.weights ? await fileHash(resolve(encoder.weights)) : "";
  const preprocessing = Object.fromEntries(PREPROCESSING.map((k) => [k, dataset.params[k]]));
  const backbone = cachedBackbone({
    loader: dataset.loader,
    imagePath: dataset.imagePath,
    encoder: net.image,
    cache: new FeatureCache(resolve(dir)),
    identity: { name: String(encoder.type), params: { ...encoder, ...preprocessing }, weights },
    fc: inference,
  });
  return {
    trainBatches: backbone.trainBatches,
    /** For evaluation: images become their cached feature maps. */
    evalLoader: { images: (ids: readonly string[]) => backbone.maps(ids), texts: dataset.loader.texts },
    stats: backbone.cache.stats,
  };
}
