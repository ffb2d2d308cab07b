// `training:` — the trainer's settings. Add a trainer field here: one line with .default() and .describe().
import { z } from "zod";
import type { KindSchemas } from "../../registry/schema.js";
import { distributedSection } from "./distributed.js";

export const trainingSection = (k: KindSchemas) =>
  z
    .strictObject({
      epochs: z.number().int().min(1).default(60).describe("Training epochs."),
      batch_size: z.number().int().min(1).default(32).describe("Triplets (reference, text, target) per step."),
      optimizer: k.slot("optimizer", "adam").describe("Optimizer: `type:` and its parameters (lr, weight decay, ...)."),
      schedule: k.slot("schedule", "step").describe("Learning-rate schedule over epochs: `type:` and its parameters."),
      precision: z
        .enum(["fp32", "bf16"])
        .default("fp32")
        .describe("Compute precision: bf16 = autocast on the torch backend (convolutions and matrix products in bfloat16; weights, optimizer state, reductions, softmax and losses in fp32)."),
      compile: z
        .enum(["auto", "eager", "replay"])
        .default("auto")
        .describe("How steps and the evaluation forward run: replay = record each step (batch) shape once and replay it natively in one call (torch backend); eager = tfjs runs every kernel; auto = replay on torch, eager elsewhere."),
      text_bucket: z
        .number()
        .int()
        .min(1)
        .default(8)
        .describe("With compiled steps: texts are padded (masked, results unchanged) to a multiple of this many words, so an epoch builds a program per bucket instead of per text length; 1 = no padding."),
      cuda_graph: z
        .enum(["auto", "off"])
        .default("auto")
        .describe("With compiled steps on CUDA: auto = the forward and backward pass of each replay run as one captured CUDA graph (static input buffers, a private memory pool; plain replay if the capture fails); off = plain replay. No effect elsewhere."),
      drop_last: z.boolean().default(false).describe("Drop each epoch's last batch when it is smaller than batch_size (one step shape less to compile)."),
      distributed: distributedSection().prefault({}),
      eval_every: z.number().int().min(1).default(1).describe("Evaluate (and keep the best checkpoint) every N epochs, and after the last."),
      checkpoint_every: z
        .number()
        .int()
        .min(0)
        .default(0)
        .describe("Also write the last checkpoint every N training steps (a killed run loses at most N steps); 0 = at each epoch's end only."),
      max_memory: z
        .string()
        .regex(/^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/, 'expected a size such as "24GiB" or "16 GB"')
        .optional()
        .describe(
          'Memory training may use, e.g. "80GiB" for the GPU machine a recipe is for; validate and build refuse a recipe whose estimate (parameters, gradients, optimizer state, one step\'s activations) is larger. Default: this machine\'s memory.',
        ),
      max_steps_per_epoch: z
        .number()
        .int()
        .min(0)
        .default(0)
        .describe("Stop each epoch after this many steps (0 = the whole training set); for quick checks."),
    })
    .describe("How the network is trained.");
