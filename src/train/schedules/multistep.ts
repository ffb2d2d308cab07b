// Multi-step decay: a factor of its own at each milestone epoch (cumulative).
import { z } from "zod";
import { defineSchedule } from "../../registry/define.js";

export const multistep = defineSchedule({
  name: "multistep",
  doc: "Multi-step decay: lr × Π factors[i] over the milestones reached, each milestone with its own factor.",
  params: z.object({
    milestones: z.array(z.number().int().min(0)).default([]).describe("0-based epochs at which the lr changes"),
    factors: z
      .array(z.number().positive())
      .default([])
      .describe("one factor per milestone (same length as milestones); missing entries use `gamma`"),
    gamma: z.number().positive().default(0.1).describe("factor for milestones without an entry in `factors`"),
  }),
  build: (p, ctx) => ({
    lrAt: (s) => {
      const epoch = Math.floor(s / ctx.stepsPerEpoch);
      let lr = ctx.baseLr;
      p.milestones.forEach((m, i) => {
        if (epoch >= m) lr *= p.factors[i] ?? p.gamma;
      });
      return lr;
    },
  }),
});
