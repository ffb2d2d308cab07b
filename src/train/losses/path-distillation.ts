// Self path distillation (docs/model.md §5): the teacher is the previous epoch's path
// prediction of the same sample; τ²·KL(softmax(z_t/τ) ‖ softmax(z/τ)) with
// z = log p, summed over the sample's (L−1)·M + 1 distributions, averaged over
// the samples of the batch that have a teacher (zero when none has).
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { defineLoss } from "../../registry/define.js";

/** (B, M, R) paths → (B, K, C) distributions along the last axis: hidden layers as is, the last (B, M, 1) as (B, 1, M). */
export function asDistributions(path: tf.Tensor3D): tf.Tensor3D {
  return path.shape[2] === 1 ? (tf.transpose(path, [0, 2, 1]) as tf.Tensor3D) : path;
}

/** Per-sample τ²·Σ KL(softmax(log p_t/τ) ‖ softmax(log p/τ)) over every distribution: (B). */
export function pathKl(student: tf.Tensor3D[], teacher: tf.Tensor3D[], tau: number): tf.Tensor1D {
  return tf.tidy(() => {
    const eps = 1e-8;
    let total: tf.Tensor1D | null = null;
    student.forEach((path, l) => {
      const zs = tf.div(tf.log(tf.add(asDistributions(path), eps)), tau);
      const zt = tf.div(tf.log(tf.add(asDistributions(teacher[l]!), eps)), tau);
      const logPs = tf.logSoftmax(zs, -1);
      const logPt = tf.logSoftmax(zt, -1);
      const kl = tf.mul(tf.exp(logPt), tf.sub(logPt, logPs)).sum([1, 2]) as tf.Tensor1D; // (B)
      total = total ? (tf.add(total, kl) as tf.Tensor1D) : kl;
    });
    return tf.mul(total!, tau * tau) as tf.Tensor1D;
  });
}

export const pathDistillation = defineLoss({
  name: "path_distillation",
  doc: "Self path distillation: τ²·KL(teacher ‖ student) over the routing distributions, teacher = the previous epoch's prediction of the same sample.",
  params: z.object({
    weight: z.number().min(0).default(1).describe("λ_spd: weight of this loss in the total"),
    temperature: z.number().positive().default(4).describe("τ: both distributions are softened as softmax(log p / τ)"),
    teacher: z
      .enum(["cache", "frozen"])
      .default("cache")
      .describe("cache: per-sample paths recorded in the previous epoch; frozen: a copy of the weights at the end of the previous epoch"),
  }),
  build: (p) => ({
    weight: p.weight,
    teacher: p.teacher,
    compute: ({ paths, teacher, teacherMask }) =>
      tf.tidy(() => {
        if (!teacher || !teacherMask) return tf.scalar(0);
        const kl = pathKl(paths, teacher, p.temperature);
        const count = teacherMask.sum().maximum(1);
        return tf.div(tf.mul(kl, teacherMask).sum(), count) as tf.Scalar;
      }),
  }),
});
