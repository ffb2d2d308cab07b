// Dropout that is active only while training; the seed comes from the forward context
// so a run is reproducible. On the torch backend the mask comes from the native step
// generator (reseeded once per training step), which a compiled step replays exactly.
// Where an axis may be padded (words), its mask is drawn with that axis outermost: masks are
// drawn in element order, so appended padding never shifts the draws of the real positions.
import * as tf from "@tensorflow/tfjs";
import type { ForwardContext } from "./context.js";

/**
 * x with dropout at `rate`; `paddedAxis` = an axis whose trailing positions may be padding
 * (a text-length bucket): the kept/dropped pattern of the other positions does not depend on its length.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, fc: ForwardContext, paddedAxis?: number): T {
  if (!fc.training || rate <= 0) return x;
  if (paddedAxis === undefined || paddedAxis === 0) return tf.tidy(() => tf.mul(x, dropMask(x.shape, rate, fc))) as T;
  return tf.tidy(() => {
    const order = [paddedAxis, ...x.shape.map((_, k) => k).filter((k) => k !== paddedAxis)];
    const back = order.map((_, k) => order.indexOf(k));
    const mask = tf.transpose(dropMask(order.map((k) => x.shape[k]!), rate, fc), back);
    return tf.mul(x, mask);
  }) as T;
}

/** 1/(1 − rate) where kept, 0 where dropped, drawn in row-major order of `shape`. */
function dropMask(shape: number[], rate: number, fc: ForwardContext): tf.Tensor {
  if (tf.getBackend() === "torch" && tf.getKernel("SdfnDropoutMask", "torch")) {
    return tf.engine().runKernel("SdfnDropoutMask", {}, { shape, rate }) as tf.Tensor;
  }
  return tf.dropout(tf.ones(shape), rate, undefined, fc.seed());
}
