// One Adam step for one parameter as the tfjs kernel SdfnAdamStep (variable, m, v, grad → the
// next variable, m, v). The torch backend runs it as one fused ATen kernel (about 6 passes over
// the parameter instead of ~15); every other backend as the written-out update below, as
// torch.optim.Adam / AdamW (./composite.ts).
import * as tf from "@tensorflow/tfjs";

import { defineComposite } from "./composite.js";

const KERNEL = "SdfnAdamStep";

export interface AdamStepOptions {
  /** Step learning rate (schedule and multipliers applied). */
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 − β1^t and 1 − β2^t */
  bias1: number;
  bias2: number;
  weightDecay: number;
  /** AdamW's decay (variable × lr × decay) instead of L2 decay added to the gradient. */
  decoupled: boolean;
}

/** The next variable, m and v (new tensors; the caller assigns them). */
export function adamStep(
  variable: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  grad: tf.Tensor,
  o: AdamStepOptions,
): { variable: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  const attrs = { lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, bias1: o.bias1, bias2: o.bias2, weightDecay: o.weightDecay, decoupled: o.decoupled };
  const [next, m2, v2] = tf.engine().runKernel(KERNEL, { variable, m, v, grad }, attrs) as tf.Tensor[];
  return { variable: next, m: m2, v: v2 };
}

defineComposite(KERNEL, ({ variable, m, v, grad }, attrs) => {
  const o = attrs as unknown as AdamStepOptions;
  let g = grad;
  if (!o.decoupled && o.weightDecay > 0) g = tf.add(g, tf.mul(variable, o.weightDecay));
  const m2 = tf.add(tf.mul(m, o.beta1), tf.mul(g, 1 - o.beta1));
  const v2 = tf.add(tf.mul(v, o.beta2), tf.mul(tf.square(g), 1 - o.beta2));
  const update = tf.div(tf.div(m2, o.bias1), tf.add(tf.sqrt(tf.div(v2, o.bias2)), o.eps));
  let next = tf.sub(variable, tf.mul(update, o.lr));
  if (o.decoupled && o.weightDecay > 0) next = tf.sub(next, tf.mul(variable, o.lr * o.weightDecay));
  return [next, m2, v2];
});
