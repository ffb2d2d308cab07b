// Text-length buckets for compiled programs (training.text_bucket): a batch's tokens and mask
// padded with masked words to the next multiple of the bucket, so a few programs serve every
// text length. Padding changes no result (test/graph/padding.test.ts).
import * as tf from "@tensorflow/tfjs";

/** `tokens` (B, T) and `mask` (B, T) padded to a multiple of `bucket` words; `made` lists the new tensors (the caller disposes them). */
export function padToBucket(tokens: tf.Tensor2D, mask: tf.Tensor2D, bucket: number): { tokens: tf.Tensor2D; mask: tf.Tensor2D; made: tf.Tensor[] } {
  const t = tokens.shape[1];
  const pad = Math.ceil(t / bucket) * bucket - t;
  if (pad === 0) return { tokens, mask, made: [] };
  const padded = [tokens, mask].map((x) => tf.pad(x, [[0, 0], [0, pad]]) as tf.Tensor2D) as [tf.Tensor2D, tf.Tensor2D];
  return { tokens: padded[0], mask: padded[1], made: padded };
}
