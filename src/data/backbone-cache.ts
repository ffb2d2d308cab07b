// Frozen-backbone features through the FeatureCache: feature maps of a dataset's
// images (evaluation crop, no augmentation) computed once per (image, encoder,
// weights) and read back in later epochs and runs. The trainer uses it when the
// image encoder reports `backboneFrozen` and data.feature_cache is set.
import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import type { ForwardContext, ImageEncoder } from "../registry/kinds.js";
import { canonicalJSON, FeatureCache, imageCacheKey, type EncoderIdentity } from "./feature-cache.js";
import { batchOrder } from "./loader.js";
import type { BatchLoader, EpochOptions, Pair, TrainBatch } from "./types.js";
import type { Rng } from "../util/rng.js";

export interface CachedBackbone {
  /** Backbone feature maps (B, h, w, C) of `ids`, from the cache or computed and stored. The caller disposes. */
  maps(ids: readonly string[]): Promise<tf.Tensor4D>;
  /**
   * The loader's epoch (same shuffle, same batches) with feature maps (B, h, w, C) in
   * `reference` and `target` instead of pixels; no augmentation (the maps are of the center crop).
   */
  trainBatches(pairs: readonly Pair[], batchSize: number, rng: Rng, opts?: EpochOptions & { skip?: number }): AsyncGenerator<TrainBatch>;
  readonly cache: FeatureCache;
}

export function cachedBackbone(opts: {
  loader: Pick<BatchLoader, "images" | "texts">;
  /** Absolute file of an image id; undefined for generated images (keyed by id and identity). */
  imagePath(id: string): string | undefined;
  encoder: Pick<ImageEncoder, "backbone" | "backboneFrozen">;
  cache: FeatureCache;
  /** Encoder name, every parameter that changes the maps (image size, normalisation too), weights hash. */
  identity: EncoderIdentity;
  fc: ForwardContext;
}): CachedBackbone {
  const { encoder, cache, identity } = opts;
  if (!encoder.backbone || !encoder.backboneFrozen) {
    throw new Error(`feature cache: image encoder "${identity.name}" has no frozen backbone; its features cannot be cached (unset data.feature_cache or freeze the backbone)`);
  }
  const backbone = encoder.backbone.bind(encoder);
  const keyOf = async (id: string) => {
    const file = opts.imagePath(id);
    if (file) return imageCacheKey(file, identity);
    return createHash("sha256").update(canonicalJSON({ generated: id, ...identity })).digest("hex");
  };

  async function maps(ids: readonly string[]): Promise<tf.Tensor4D> {
    const keys = await Promise.all(ids.map(keyOf));
    const found = await cache.getOrCompute(keys, async (missing) => {
      const images = await opts.loader.images(missing.map((i) => ids[i]!));
      const out = tf.tidy(() => backbone(images, opts.fc));
      images.dispose();
      const [b, h, w, c] = out.shape;
      const data = (await out.data()) as Float32Array;
      out.dispose();
      const per = h * w * c;
      return Array.from({ length: b }, (_, i) => ({ data: data.slice(i * per, (i + 1) * per), shape: [h, w, c] }));
    });
    const shape = found[0]!.shape;
    const per = found[0]!.data.length;
    const all = new Float32Array(ids.length * per);
    found.forEach((f, i) => {
      if (f.data.length !== per) throw new Error(`feature cache: entry for "${ids[i]}" has shape [${f.shape}], expected [${shape}]`);
      all.set(f.data, i * per);
    });
    return tf.tensor4d(all, [ids.length, shape[0]!, shape[1]!, shape[2]!]);
  }

  const textsOf = (batch: Pair[]) => opts.loader.texts(batch.map((p) => p.text));

  async function* trainBatches(pairs: readonly Pair[], batchSize: number, rng: Rng, opts: EpochOptions & { skip?: number } = {}) {
    for (const batch of batchOrder(pairs, batchSize, rng, opts).slice(opts.skip ?? 0)) {
      const reference = await maps(batch.map((p) => p.reference));
      const target = await maps(batch.map((p) => p.target)).catch((err: unknown) => {
        reference.dispose();
        throw err;
      });
      yield { ids: batch.map((p) => p.id), reference, target, ...textsOf(batch) } satisfies TrainBatch;
    }
  }
  return { maps, trainBatches, cache };
}
