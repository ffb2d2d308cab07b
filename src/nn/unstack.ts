// tf.unstack that is safe to differentiate: tfjs's Unpack gradient passes a lone tensor (not
// an array) to stack when the axis has size 1 and fails, so a size-1 axis is squeezed instead.
import * as tf from "@tensorflow/tfjs";

export function unstack<T extends tf.Tensor>(x: tf.Tensor, axis: number): T[] {
  return (x.shape[axis] === 1 ? [x.squeeze([axis])] : tf.unstack(x, axis)) as T[];
}
