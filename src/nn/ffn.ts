// The position-wise feed-forward block: Linear(d → hidden) → ReLU → dropout → Linear(hidden → d).
import * as tf from "@tensorflow/tfjs";
import type { ForwardContext } from "./context.js";
import { dropout } from "./dropout.js";
import { linear } from "./linear.js";
import type { ParamScope } from "./scope.js";

export interface FeedForward {
  apply(x: tf.Tensor3D, fc: ForwardContext): tf.Tensor3D;
}

export function feedForward(scope: ParamScope, dim: number, hidden: number, rate = 0): FeedForward {
  const fc1 = linear(scope.child("fc1"), dim, hidden);
  const fc2 = linear(scope.child("fc2"), hidden, dim);
  return {
    apply: (x, fc) => tf.tidy(() => fc2.apply(dropout(tf.relu(fc1.apply(x)), rate, fc))),
  };
}
