// A dense layer over the last axis: (..., in) → (..., out). Weight [in, out], bias [out].
import * as tf from "@tensorflow/tfjs";
import { type Init, type ParamScope, uniform, zeros } from "./scope.js";

export interface Linear {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  apply<T extends tf.Tensor>(x: T): T;
}

export interface LinearOptions {
  bias?: boolean;
  /** Weight init; default PyTorch's U(±1/√in). */
  init?: Init;
  biasInit?: Init;
  trainable?: boolean;
}

/** Creates `scope.weight` [inDim, outDim] and `scope.bias` [outDim]. */
export function linear(scope: ParamScope, inDim: number, outDim: number, opts: LinearOptions = {}): Linear {
  const trainable = opts.trainable ?? true;
  const weight = scope.param("weight", [inDim, outDim], opts.init ?? uniform(1 / Math.sqrt(inDim)), trainable);
  const bias = opts.bias === false ? undefined : scope.param("bias", [outDim], opts.biasInit ?? zeros, trainable);
  return {
    weight,
    bias,
    apply<T extends tf.Tensor>(x: T): T {
      return tf.tidy(() => {
        const flat = x.reshape([-1, inDim]) as tf.Tensor2D;
        let y: tf.Tensor = tf.matMul(flat, weight);
        if (bias) y = tf.add(y, bias);
        return y.reshape([...x.shape.slice(0, -1), outDim]) as T;
      });
    },
  };
}
