// Pooling for the routers: per sender a learned query scores a set of tokens (softmax over
// them, padding masked) and the router reads their weighted sum instead of the plain mean.
// Queries start at 0, so a fresh router pools by the mean. `pool` (msr and shared alike) picks
// how a router pools its module's region tokens: one definition, so both routers default the
// same way and Table 3's SR → MSR step changes the modality split only (docs/model.md).
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { zeros, type ParamScope } from "../nn/scope.js";
import type { RouterRegions } from "../registry/kinds.js";

/** The `pool` param of every built-in router that reads region tokens. */
export const poolParam = z
  .enum(["attention", "mean"])
  .default("attention")
  .describe(
    "How the router pools its module's region tokens before its MLP: attention (a learned query per sender, `image_query`; zeros at the start, i.e. the mean) or mean.",
  );
export type Pool = z.output<typeof poolParam>;

/** Masked-out tokens get this added to their scores (exp underflows to 0, as in src/nn/attention.ts). */
const MASKED = -1e9;

export interface AttentionPool {
  /** Per-sender tokens (M, B, N, d) → (M, B, d): sender i's query pools its own module's tokens. */
  ownTokens(tokens: tf.Tensor4D): tf.Tensor3D;
  /** Tokens every sender shares (B, T, d), mask (B, T) → (M, B, d): sender i's query pools them. */
  sharedTokens(tokens: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor3D;
}

/** One query per sender, `{name}` [M, d]; scores = tokens · q_i / √d. */
export function attentionPool(scope: ParamScope, name: string, senders: number, dim: number): AttentionPool {
  const query = scope.param(name, [senders, dim], zeros); // (M, d)
  const scale = 1 / Math.sqrt(dim);
  return {
    ownTokens: (tokens) =>
      tf.tidy(() => {
        const [m, b, n, d] = tokens.shape;
        const flat = tokens.reshape([m, b * n, d]) as tf.Tensor3D;
        const scores = tf.matMul(flat, query.reshape([m, d, 1])).reshape([m * b, n]); // (M·B, N)
        const weights = tf.softmax(tf.mul(scores, scale)).reshape([m * b, 1, n]);
        return tf.matMul(weights, tokens.reshape([m * b, n, d])).reshape([m, b, d]) as tf.Tensor3D;
      }),
    sharedTokens: (tokens, mask) =>
      tf.tidy(() => {
        const [b, t, d] = tokens.shape;
        const scores = tf.matMul(tokens.reshape([b * t, d]), query, false, true).reshape([b, t, senders]); // (B, T, M)
        const masked = tf.add(tf.mul(scores.transpose([0, 2, 1]), scale), tf.mul(tf.sub(1, mask), MASKED).expandDims(1));
        const weights = tf.softmax(masked) as tf.Tensor3D; // (B, M, T) over the valid words
        return tf.matMul(weights, tokens).transpose([1, 0, 2]) as tf.Tensor3D; // (M, B, d)
      }),
  };
}

/**
 * What each sender's router reads of its module's tokens, (M, B, d): attention-pooled by
 * `image_query` [M, d], or the mean the compiler already pooled ((B, M, d), transposed).
 */
export function regionPool(scope: ParamScope, pool: Pool, senders: number, dim: number) {
  const attention = pool === "attention" ? attentionPool(scope, "image_query", senders, dim) : null;
  return (pooled: tf.Tensor3D, regions?: RouterRegions): tf.Tensor3D => {
    if (!attention) return pooled.transpose([1, 0, 2]) as tf.Tensor3D;
    if (!regions) throw new Error(`${scope.path}: pool: attention reads the region tokens; the caller passed none`);
    return attention.ownTokens(regions.tokens);
  };
}
