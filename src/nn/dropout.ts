// Dropout that is active only while training; the seed comes from the forward context
// so a run is reproducible. On the torch backend the mask comes from the native step
// generator (reseeded once per training step), which a compiled step replays exactly.
import * as tf from "@tensorflow/tfjs";
import type { ForwardContext } from "./context.js";

export function dropout<T extends tf.Tensor>(x: T, rate: number, fc: ForwardContext): T {
  if (!fc.training || rate <= 0) return x;
  if (tf.getBackend() === "torch" && tf.getKernel("SdfnDropoutMask", "torch")) {
    return tf.tidy(() => tf.mul(x, tf.engine().runKernel("SdfnDropoutMask", {}, { shape: x.shape, rate }) as tf.Tensor)) as T;
  }
  return tf.dropout(x, rate, undefined, fc.seed()) as T;
}
