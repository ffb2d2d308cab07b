// Masked recurrent layers (LSTM, GRU) over (B, T, E) sequences, batched over B with one
// loop over T. Where mask = 0 the state is carried unchanged and the output is 0, so padding
// (anywhere, either direction) does not change the results for the real words.
// Gate order and names follow PyTorch: LSTM i, f, g, o; GRU r, z, n.
import * as tf from "@tensorflow/tfjs";
import { type ParamScope, uniform, zeros } from "./scope.js";
import { unstack } from "./unstack.js";

export interface Recurrent {
  readonly hidden: number;
  /** x (B, T, E), mask (B, T) → outputs (B, T, H), zero at padding; `reverse` runs from the last word. */
  run(x: tf.Tensor3D, mask: tf.Tensor2D, reverse?: boolean): tf.Tensor3D;
}

/** One step on transposed state: input part of the gates xt (G·H, B), h and c (H, B). */
type Step = (xt: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D) => [tf.Tensor2D, tf.Tensor2D];

/**
 * The time loop shared by both cells: carries (h, c) through masked steps. State is kept
 * transposed, (H, B), so every per-step slice (time step, gate) is a contiguous block:
 * the cpu backend slices those by copying a subarray instead of element by element.
 */
function scan(xw: tf.Tensor3D, mask: tf.Tensor2D, hidden: number, reverse: boolean, step: Step): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, t] = xw.shape;
    const xs = unstack<tf.Tensor2D>(xw.transpose([1, 2, 0]), 0); // T × (G·H, B)
    // the mask as T × (H, B) booleans, built once: each step's blend is then one select
    const maskT = tf.mul(mask.transpose().reshape([t, 1, b]), tf.ones([1, hidden, 1])); // (T, H, B)
    const ms = unstack<tf.Tensor2D>(tf.cast(maskT, "bool"), 0);
    let h = tf.zeros([hidden, b]) as tf.Tensor2D;
    let c = tf.zeros([hidden, b]) as tf.Tensor2D;
    const outs: tf.Tensor2D[] = new Array(t);
    for (let k = 0; k < t; k++) {
      const i = reverse ? t - 1 - k : k;
      const m = ms[i]!;
      const [hNew, cNew] = step(xs[i]!, h, c);
      // keep the previous state where this position is padding
      h = tf.where(m, hNew, h);
      c = tf.where(m, cNew, c);
      outs[i] = h;
    }
    // outputs are 0 at padding: one multiply for all steps
    return tf.mul(tf.stack(outs), maskT).transpose([2, 0, 1]) as tf.Tensor3D; // (T, H, B) → (B, T, H)
  });
}

/**
 * LSTM: `weight_ih{suffix}` [E, 4H], `weight_hh{suffix}` [H, 4H], `bias_ih{suffix}` [4H]
 * (PyTorch's names, e.g. suffix "_l0" / "_l0_reverse"; one bias = PyTorch bias_ih + bias_hh).
 */
export function lstmLayer(scope: ParamScope, inDim: number, hidden: number, suffix = ""): Recurrent {
  const k = 1 / Math.sqrt(hidden);
  const wih = scope.param(`weight_ih${suffix}`, [inDim, 4 * hidden], uniform(k));
  const whh = scope.param(`weight_hh${suffix}`, [hidden, 4 * hidden], uniform(k));
  const bias = scope.param(`bias_ih${suffix}`, [4 * hidden], zeros);
  return {
    hidden,
    run: (x, mask, reverse = false) =>
      tf.tidy(() => {
        const [b, t, e] = x.shape;
        // input projections for every step at once: (B, T, 4H)
        const xw = tf.add(tf.matMul(x.reshape([b * t, e]), wih), bias).reshape([b, t, 4 * hidden]) as tf.Tensor3D;
        return scan(xw, mask, hidden, reverse, (xt, h, c) => {
          const gates = tf.add(xt, tf.matMul(whh, h, true, false)); // (4H, B)
          const [i, f, g, o] = tf.split(gates, 4, 0) as tf.Tensor2D[];
          const cNew = tf.add(tf.mul(tf.sigmoid(f!), c), tf.mul(tf.sigmoid(i!), tf.tanh(g!))) as tf.Tensor2D;
          return [tf.mul(tf.sigmoid(o!), tf.tanh(cNew)), cNew];
        });
      }),
  };
}

/**
 * GRU: `weight_ih{suffix}` [E, 3H], `weight_hh{suffix}` [H, 3H], `bias_ih{suffix}` [3H]. The
 * hidden-side bias is fixed at 0 (PyTorch bias_hh = 0), so n = tanh(W_in x + b_in + r ⊙ W_hn h).
 */
export function gruLayer(scope: ParamScope, inDim: number, hidden: number, suffix = ""): Recurrent {
  const k = 1 / Math.sqrt(hidden);
  const wih = scope.param(`weight_ih${suffix}`, [inDim, 3 * hidden], uniform(k));
  const whh = scope.param(`weight_hh${suffix}`, [hidden, 3 * hidden], uniform(k));
  const bih = scope.param(`bias_ih${suffix}`, [3 * hidden], zeros);
  return {
    hidden,
    run: (x, mask, reverse = false) =>
      tf.tidy(() => {
        const [b, t, e] = x.shape;
        const xw = tf.add(tf.matMul(x.reshape([b * t, e]), wih), bih).reshape([b, t, 3 * hidden]) as tf.Tensor3D;
        return scan(xw, mask, hidden, reverse, (xt, h, c) => {
          const [xr, xz, xn] = tf.split(xt, 3, 0) as tf.Tensor2D[];
          const [hr, hz, hn] = tf.split(tf.matMul(whh, h, true, false), 3, 0) as tf.Tensor2D[]; // (3H, B)
          const r = tf.sigmoid(tf.add(xr!, hr!));
          const z = tf.sigmoid(tf.add(xz!, hz!));
          const n = tf.tanh(tf.add(xn!, tf.mul(r, hn!)));
          // h' = (1 − z) n + z h = n + z (h − n); the GRU has no cell state (c passes through)
          return [tf.add(n, tf.mul(z, tf.sub(h, n))) as tf.Tensor2D, c];
        });
      }),
  };
}
