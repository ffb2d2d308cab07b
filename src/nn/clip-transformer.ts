// The transformer of CLIP's image and text towers (Radford et al. 2021), parameters in OpenAI's
// names under `transformer.resblocks.{i}.`: pre-norm residual blocks
//   x = x + out_proj(MHA(ln_1(x)));  x = x + c_proj(QuickGELU(c_fc(ln_2(x))))
// with QuickGELU(z) = z · σ(1.702 z). Dense weights are stored [in, out] as every sdfn linear
// (OpenAI's [out, in] transposed on load, src/encoders/clip-weights.ts): in_proj_weight [w, 3w].
import * as tf from "@tensorflow/tfjs";
import { layerNorm } from "./layer-norm.js";
import { linear } from "./linear.js";
import { normal, zeros, type ParamScope } from "./scope.js";

export interface ClipTransformer {
  /** x (B, L, w) → (B, L, w); `mask` (L, L) is added to every head's attention logits (causal: −∞ above the diagonal), or null. */
  apply(x: tf.Tensor3D, mask: tf.Tensor2D | null): tf.Tensor3D;
}

export interface ClipTransformerShape {
  width: number;
  layers: number;
  heads: number;
}

/** OpenAI's initialisation (CLIP's initialize_parameters): N(0, σ²) per kind of weight, biases 0. */
function initStds({ width, layers }: ClipTransformerShape) {
  const attn = width ** -0.5;
  return { attn, proj: attn * (2 * layers) ** -0.5, fc: (2 * width) ** -0.5 };
}

const quickGelu = (z: tf.Tensor) => tf.mul(z, tf.sigmoid(tf.mul(z, 1.702)));

/** One residual attention block under `scope` (transformer.resblocks.{i}). */
function residualBlock(scope: ParamScope, shape: ClipTransformerShape, trainable: boolean) {
  const { width: w, heads } = shape;
  const std = initStds(shape);
  const dh = w / heads;
  const attn = scope.child("attn");
  const inWeight = attn.param("in_proj_weight", [w, 3 * w], normal(std.attn), trainable); // [w, q|k|v]
  const inBias = attn.param("in_proj_bias", [3 * w], zeros, trainable);
  const outProj = linear(attn.child("out_proj"), w, w, { init: normal(std.proj), trainable });
  const ln1 = layerNorm(scope.child("ln_1"), w, 1e-5, trainable);
  const cFc = linear(scope.child("mlp.c_fc"), w, 4 * w, { init: normal(std.fc), trainable });
  const cProj = linear(scope.child("mlp.c_proj"), 4 * w, w, { init: normal(std.proj), trainable });
  const ln2 = layerNorm(scope.child("ln_2"), w, 1e-5, trainable);
  // (B·L, w) → (B, h, L, dh)
  const heads_ = (x: tf.Tensor, b: number, l: number) => x.reshape([b, l, heads, dh]).transpose([0, 2, 1, 3]);

  const attention = (x: tf.Tensor3D, mask: tf.Tensor2D | null): tf.Tensor3D => {
    const [b, l] = x.shape;
    const qkv = tf.add(tf.matMul(x.reshape([b * l, w]), inWeight), inBias); // (B·L, 3w)
    const [q, k, v] = tf.split(qkv, 3, 1).map((t) => heads_(t, b, l));
    let logits = tf.mul(tf.matMul(q!, k!, false, true), 1 / Math.sqrt(dh)); // (B, h, L, L)
    if (mask) logits = tf.add(logits, mask);
    const merged = tf.matMul(tf.softmax(logits, -1), v!).transpose([0, 2, 1, 3]).reshape([b, l, w]) as tf.Tensor3D;
    return outProj.apply(merged);
  };

  return (x: tf.Tensor3D, mask: tf.Tensor2D | null): tf.Tensor3D =>
    tf.tidy(() => {
      const h = tf.add(x, attention(ln1.apply(x), mask)) as tf.Tensor3D;
      return tf.add(h, cProj.apply(quickGelu(cFc.apply(ln2.apply(h))))) as tf.Tensor3D;
    });
}

/** `layers` blocks under `scope.transformer.resblocks.{i}`; `trainable` false freezes them. */
export function clipTransformer(scope: ParamScope, shape: ClipTransformerShape, trainable = true): ClipTransformer {
  if (shape.width % shape.heads !== 0) {
    throw new Error(`${scope.path}: ${shape.heads} heads do not divide the width ${shape.width}`);
  }
  const blocks = Array.from({ length: shape.layers }, (_, i) => residualBlock(scope.child(`transformer.resblocks.${i}`), shape, trainable));
  return {
    apply: (x, mask) => tf.tidy(() => blocks.reduce((h, block) => block(h, mask), x)),
  };
}

/** The causal mask (L, L): 0 on and below the diagonal, −1e9 above (a position attends to itself and earlier ones). */
export function causalMask(length: number): tf.Tensor2D {
  const values = new Float32Array(length * length);
  for (let i = 0; i < length; i++) values.fill(-1e9, i * length + i + 1, (i + 1) * length);
  return tf.tensor2d(values, [length, length]);
}
