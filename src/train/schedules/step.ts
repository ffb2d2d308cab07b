// Step decay: the learning rate is multiplied by gamma at each milestone epoch.
import { z } from "zod";
import { defineSchedule } from "../../registry/define.js";

export const step = defineSchedule({
  name: "step",
  doc: "Step decay: lr × gamma^k after the k-th milestone epoch (e.g. milestones [50], gamma 0.1: ÷10 from epoch 50).",
  params: z.object({
    milestones: z.array(z.number().int().min(0)).default([]).describe("0-based epochs at which the lr is multiplied by gamma"),
    gamma: z.number().positive().default(0.1).describe("multiplicative factor at each milestone"),
  }),
  build: (p, ctx) => ({
    lrAt: (s) => {
      const epoch = Math.floor(s / ctx.stepsPerEpoch);
      return ctx.baseLr * p.gamma ** p.milestones.filter((m) => epoch >= m).length;
    },
  }),
});
