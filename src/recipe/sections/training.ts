// `training:` — the trainer's settings. Add a trainer field here: one line with .default() and .describe().
import { z } from "zod";
import type { KindSchemas } from "../../registry/schema.js";

export const trainingSection = (k: KindSchemas) =>
  z
    .strictObject({
      epochs: z.number().int().min(1).default(60).describe("Training epochs."),
      batch_size: z.number().int().min(1).default(32).describe("Triplets (reference, text, target) per step."),
      optimizer: k.slot("optimizer", "adam").describe("Optimizer: `type:` and its parameters (lr, weight decay, ...)."),
      schedule: k.slot("schedule", "step").describe("Learning-rate schedule over epochs: `type:` and its parameters."),
      eval_every: z.number().int().min(1).default(1).describe("Evaluate (and keep the best checkpoint) every N epochs, and after the last."),
      max_steps_per_epoch: z
        .number()
        .int()
        .min(0)
        .default(0)
        .describe("Stop each epoch after this many steps (0 = the whole training set); for quick checks."),
    })
    .describe("How the network is trained.");
