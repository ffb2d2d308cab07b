// The Adam update written over named tfjs variables (tfjs's AdamOptimizer has no
// weight decay and no per-parameter learning rate). Shared by `adam` (L2 decay
// added to the gradient, as torch.optim.Adam) and `adamw` (decoupled decay, as
// torch.optim.AdamW). Everything stays on the device: no readback in `apply`.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { adamStep } from "../../backend/adam-step.js";
import { declareStepScalars } from "../../backend/step-scalars.js";
import type { Optimizer, OptimizerBuildContext, OptimizerState } from "../../registry/kinds-training.js";

/** Parameters whose name starts with this prefix get `backbone_lr_mult` × lr. */
export const BACKBONE_PREFIX = "image.backbone.";

export const adamParams = (weightDecay: number) =>
  z.object({
    lr: z.number().positive().default(2e-4).describe("base learning rate (the schedule scales it)"),
    weight_decay: z.number().min(0).default(weightDecay).describe("weight decay coefficient"),
    betas: z
      .tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)])
      .default([0.9, 0.999])
      .describe("β1, β2: decay rates of the first and second moment estimates"),
    eps: z.number().positive().default(1e-8).describe("ε added to √v̂ in the denominator"),
    backbone_lr_mult: z
      .number()
      .min(0)
      .default(1)
      .describe(`learning-rate multiplier for the image backbone (parameters named ${BACKBONE_PREFIX}*); 0 freezes it`),
    grad_clip: z.number().min(0).default(0).describe("clip gradients to this global L2 norm before the update; 0 = no clipping"),
  });

export type AdamParams = z.output<ReturnType<typeof adamParams>>;

interface Slot {
  variable: tf.Variable;
  m: tf.Variable;
  v: tf.Variable;
  lrMult: number;
}

/** Builds an Adam optimizer; `decoupled` selects AdamW's decay. */
export function createAdam(p: AdamParams, ctx: OptimizerBuildContext, decoupled: boolean): Optimizer {
  const [beta1, beta2] = p.betas;
  const slots = new Map<string, Slot>();
  const updated = new Map<string, tf.Variable>();
  for (const [name, variable] of ctx.variables) {
    const lrMult = (name.startsWith(BACKBONE_PREFIX) ? p.backbone_lr_mult : 1) * prefixMult(ctx.lrMults, name);
    if (lrMult === 0) continue; // frozen: no moments, and no gradient is computed for it
    updated.set(name, variable);
    slots.set(name, {
      variable,
      m: tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
      v: tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
      lrMult,
    });
  }
  let steps = 0;
  const lrMults = [...new Set([...slots.values()].map((s) => s.lrMult))];
  // Update t's per-step float attributes, by name (a compiled step replays them with new values).
  const scalarsAt = (lr: number, t: number) => {
    const s: Record<string, number> = { "adam.bias1": 1 - beta1 ** t, "adam.bias2": 1 - beta2 ** t };
    for (const mult of lrMults) s[`adam.lr×${mult}`] = lr * mult;
    return s;
  };

  const apply = (grads: Record<string, tf.Tensor>, lr: number) => {
    steps += 1;
    const scalars = declareStepScalars(scalarsAt(lr, steps));
    const bias1 = scalars["adam.bias1"]!;
    const bias2 = scalars["adam.bias2"]!;
    tf.tidy(() => {
      const named = Object.entries(grads).filter(([name]) => slots.has(name));
      const clip = p.grad_clip > 0 ? clipFactor(named.map(([, g]) => g), p.grad_clip) : null;
      for (const [name, raw] of named) {
        const slot = slots.get(name)!;
        const stepLr = scalars[`adam.lr×${slot.lrMult}`]!;
        if (stepLr === 0) continue;
        const g = clip ? tf.mul(raw, clip) : raw;
        // The update itself: one fused kernel on the torch backend, the written-out formula elsewhere.
        const next = adamStep(slot.variable, slot.m, slot.v, g, {
          lr: stepLr, beta1, beta2, eps: p.eps, bias1, bias2, weightDecay: p.weight_decay, decoupled,
        });
        slot.m.assign(next.m);
        slot.v.assign(next.v);
        slot.variable.assign(next.variable);
      }
    });
  };

  return {
    apply,
    variables: updated,
    get steps() {
      return steps;
    },
    stepScalars: (lr) => scalarsAt(lr, steps + 1),
    countStep: () => {
      steps += 1;
    },
    async save() {
      const tensors: OptimizerState["tensors"] = {};
      for (const [name, slot] of slots) {
        tensors[`m/${name}`] = { shape: slot.m.shape, data: (await slot.m.data()) as Float32Array };
        tensors[`v/${name}`] = { shape: slot.v.shape, data: (await slot.v.data()) as Float32Array };
      }
      return { step: steps, tensors };
    },
    load(state) {
      steps = state.step;
      for (const [name, slot] of slots) {
        for (const key of ["m", "v"] as const) {
          const saved = state.tensors[`${key}/${name}`];
          if (!saved) throw new Error(`optimizer state has no "${key}/${name}": the checkpoint was written for a different network`);
          tf.tidy(() => slot[key].assign(tf.tensor(saved.data, slot[key].shape, "float32")));
        }
      }
    },
    dispose() {
      for (const slot of slots.values()) {
        slot.m.dispose();
        slot.v.dispose();
      }
      slots.clear();
    },
  };
}

/** The multiplier of the longest prefix of `name` in `mults` (1 when none matches). */
export function prefixMult(mults: ReadonlyMap<string, number> | undefined, name: string): number {
  let best = "";
  let mult = 1;
  for (const [prefix, m] of mults ?? []) {
    if (name.startsWith(prefix) && prefix.length >= best.length) [best, mult] = [prefix, m];
  }
  return mult;
}

/** Scalar factor min(1, maxNorm / ‖g‖) over the global L2 norm of all gradients. */
export function clipFactor(grads: tf.Tensor[], maxNorm: number): tf.Scalar {
  return tf.tidy(() => {
    const sq = tf.addN(grads.map((g) => tf.square(g).sum()));
    const norm = tf.sqrt(sq);
    return tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6))) as tf.Scalar;
  });
}
