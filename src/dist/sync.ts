// Gradient averaging of a data-parallel step: the gradients in buckets of about `bucketBytes`
// (one DistAllreduce each, as DDP's bucket_cap_mb), and the step's packed loss/routing head
// averaged with them, so every rank applies the same update and sees the same losses (a
// non-finite loss on any rank skips the update on all). It runs after the eager backward;
// a compiled step (training.compile) records the same DistAllreduce kernels into its program.
import * as tf from "@tensorflow/tfjs";
import type { DistGroup } from "./group.js";

/** Gradients by tfjs variable name (tf.variableGrads' result). */
export type Gradients = Record<string, tf.Tensor>;

/** The hook a step calls between its backward pass and its readback (src/train/step.ts StepSetup.sync). */
export type GradientSync = (grads: Gradients, packed: tf.Tensor1D, headLength: number) => { grads: Gradients; packed: tf.Tensor1D };

/** Consecutive groups of `names` whose float32 sizes add up to about `bucketBytes` (at least one each). */
export function buckets(names: readonly string[], sizeOf: (name: string) => number, bucketBytes: number): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const name of names) {
    current.push(name);
    bytes += 4 * sizeOf(name);
    if (bytes >= bucketBytes) {
      out.push(current);
      current = [];
      bytes = 0;
    }
  }
  if (current.length) out.push(current);
  return out;
}

/** A GradientSync over `group` (world > 1). */
export function gradientSync(group: DistGroup, bucketBytes: number): GradientSync {
  return (grads, packed, headLength) => {
    // The head rides in the first bucket: no collective of its own.
    const head = packed.slice(0, headLength);
    const names = Object.keys(grads);
    const plan = buckets(names, (n) => grads[n]!.size, bucketBytes);
    const averaged: Gradients = {};
    let headMean: tf.Tensor | null = null;
    plan.forEach((bucket, b) => {
      const inputs = bucket.map((n) => grads[n]!);
      const outs = group.allreduceMean(b === 0 ? [head, ...inputs] : inputs);
      if (b === 0) headMean = outs.shift()!;
      bucket.forEach((n, i) => (averaged[n] = outs[i]!));
    });
    if (!headMean) headMean = group.allreduceMean([head])[0]!; // no gradients at all
    const tail = packed.slice(headLength);
    const merged = tf.concat([headMean, tail]) as tf.Tensor1D;
    tf.dispose([head, tail, headMean]);
    return { grads: averaged, packed: merged };
  };
}
