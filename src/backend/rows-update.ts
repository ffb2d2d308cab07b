// Rows of a table replaced at given indices, as the tfjs kernel SdfnRowsUpdate (table (N, W),
// indices (B) int32, rows (B, W) → the table with row indices[i] = rows[i]). The distillation
// cache (src/train/path-cache.ts) writes a batch's paths with it inside the step. The torch
// backend runs it as one index_copy (in place when a replay owns the table); every other backend
// as the formula below (./composite.ts). Indices within one call must be distinct.
import * as tf from "@tensorflow/tfjs";

import { defineComposite } from "./composite.js";

const KERNEL = "SdfnRowsUpdate";

/** `table` with row `indices[i]` replaced by `rows[i]` (a new tensor; the caller assigns it). */
export function rowsUpdate(table: tf.Tensor2D, indices: tf.Tensor1D, rows: tf.Tensor2D): tf.Tensor2D {
  const out = tf.engine().runKernel(KERNEL, { table, indices, rows }, {}) as tf.Tensor2D | tf.Tensor2D[];
  return Array.isArray(out) ? out[0]! : out; // (a kernel that returns a list of one gives a list)
}

defineComposite(KERNEL, ({ table, indices, rows }) => {
  const [n, w] = table.shape as [number, number];
  const at = tf.reshape(indices, [-1, 1]);
  const hit = tf.greater(tf.scatterND(at, tf.onesLike(indices), [n]), 0);
  const placed = tf.scatterND(at, rows, [n, w]);
  return [tf.where(tf.tile(tf.reshape(hit, [n, 1]), [1, w]), placed, table)];
});
