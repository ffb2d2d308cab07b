// A retrieval network and loader whose embeddings are given by hand: gallery
// image id → vector, query text → vector (the reference image is ignored, so
// the tests control every cosine).
import * as tf from "@tensorflow/tfjs";
import type { RetrievalNetwork } from "../../src/eval/embed.js";

export function handMade(images: Record<string, number[]>, texts: Record<string, number[]>) {
  const textNames = Object.keys(texts);
  const dim = Object.values(images)[0]!.length;
  const table = tf.tensor2d(textNames.map((t) => texts[t]!));
  const loader = {
    images: async (ids: readonly string[]) =>
      tf.tensor4d(ids.flatMap((id) => images[id] ?? new Array(dim).fill(0.5)), [ids.length, 1, 1, dim]),
    texts: (ts: readonly string[]) => ({
      tokens: tf.tensor2d(ts.map((t) => [textNames.indexOf(t)]), [ts.length, 1], "int32"),
      mask: tf.ones([ts.length, 1]) as tf.Tensor2D,
    }),
  };
  const net: RetrievalNetwork = {
    encodeTarget: (x) => x.reshape([x.shape[0], dim]),
    encodeQuery: ({ tokens }) => ({ query: tf.gather(table, tokens.reshape([-1])) as tf.Tensor2D }),
  };
  return { net, loader, dispose: () => table.dispose() };
}
