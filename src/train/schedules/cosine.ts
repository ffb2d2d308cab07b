// Cosine annealing per step from the base lr to min_lr, after a linear warmup.
import { z } from "zod";
import { defineSchedule } from "../../registry/define.js";

export const cosine = defineSchedule({
  name: "cosine",
  doc: "Linear warmup over warmup_epochs, then cosine annealing per step down to min_lr at the end of training.",
  params: z.object({
    warmup_epochs: z.number().min(0).default(0).describe("epochs of linear warmup from lr/steps to lr (may be fractional)"),
    min_lr: z.number().min(0).default(0).describe("learning rate at the end of the cosine"),
  }),
  build: (p, ctx) => {
    const total = ctx.epochs * ctx.stepsPerEpoch;
    const warmup = Math.round(p.warmup_epochs * ctx.stepsPerEpoch);
    return {
      lrAt: (s) => {
        if (s < warmup) return (ctx.baseLr * (s + 1)) / warmup;
        const progress = total > warmup ? Math.min(1, (s - warmup) / (total - warmup)) : 1;
        return p.min_lr + 0.5 * (ctx.baseLr - p.min_lr) * (1 + Math.cos(Math.PI * progress));
      },
    };
  },
});
