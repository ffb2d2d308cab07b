// Embeddings for retrieval, computed in batches with the network in inference
// mode: gallery images → pooled target features t; (reference, text) → query q.
import * as tf from "@tensorflow/tfjs";
import { inference, type ForwardContext } from "../nn/context.js";
import type { BatchLoader } from "../data/types.js";

/** The part of a compiled Network that retrieval needs (src/graph/compile.ts). */
export interface RetrievalNetwork {
  encodeQuery(
    input: { reference: tf.Tensor4D; tokens: tf.Tensor2D; mask: tf.Tensor2D },
    fc: ForwardContext,
  ): { query: tf.Tensor2D; paths?: tf.Tensor3D[] };
  encodeTarget(images: tf.Tensor4D, fc: ForwardContext): tf.Tensor2D;
}

type Loader = Pick<BatchLoader, "images" | "texts">;

/** Concatenates per-batch results (disposing them): (n, d). */
async function inBatches(count: number, batchSize: number, run: (start: number, end: number) => Promise<tf.Tensor2D>) {
  const parts: tf.Tensor2D[] = [];
  try {
    for (let start = 0; start < count; start += batchSize) parts.push(await run(start, Math.min(count, start + batchSize)));
    return parts.length === 1 ? parts[0]!.clone() : (tf.concat(parts, 0) as tf.Tensor2D);
  } finally {
    tf.dispose(parts);
  }
}

/** Target embeddings of gallery images: (G, d). */
export function embedGallery(net: RetrievalNetwork, loader: Loader, ids: readonly string[], batchSize: number) {
  return inBatches(ids.length, batchSize, async (start, end) => {
    const images = await loader.images(ids.slice(start, end), { train: false });
    try {
      return tf.tidy(() => net.encodeTarget(images, inference));
    } finally {
      images.dispose();
    }
  });
}

/** Routing paths of one batch of queries from `start` on: per layer a (B, M, R) array. */
export type PathsVisitor = (start: number, layers: number[][][][]) => void;

/** Query embeddings of (reference image id, text) pairs: (Q, d); `onPaths` also reads each batch's routing paths. */
export function embedQueries(
  net: RetrievalNetwork,
  loader: Loader,
  queries: readonly { reference: string; text: string }[],
  batchSize: number,
  onPaths?: PathsVisitor,
) {
  return inBatches(queries.length, batchSize, async (start, end) => {
    const part = queries.slice(start, end);
    const reference = await loader.images(part.map((q) => q.reference), { train: false });
    const { tokens, mask } = loader.texts(part.map((q) => q.text));
    try {
      if (!onPaths) return tf.tidy(() => net.encodeQuery({ reference, tokens, mask }, inference).query);
      const [query, ...paths] = tf.tidy(() => {
        const out = net.encodeQuery({ reference, tokens, mask }, inference);
        return [out.query, ...(out.paths ?? [])];
      }) as [tf.Tensor2D, ...tf.Tensor3D[]];
      try {
        onPaths(start, await Promise.all(paths.map((p) => p.array())));
      } catch (err) {
        query.dispose();
        throw err;
      } finally {
        tf.dispose(paths);
      }
      return query;
    } finally {
      tf.dispose([reference, tokens, mask]);
    }
  });
}
