// Dropout that is active only while training; the seed comes from the forward context
// so a run is reproducible.
import * as tf from "@tensorflow/tfjs";
import type { ForwardContext } from "./context.js";

export function dropout<T extends tf.Tensor>(x: T, rate: number, fc: ForwardContext): T {
  if (!fc.training || rate <= 0) return x;
  return tf.dropout(x, rate, undefined, fc.seed()) as T;
}
