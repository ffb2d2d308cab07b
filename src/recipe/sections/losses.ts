// `losses:` — the training objective: a weighted sum of registered losses (each has `weight`).
import { z } from "zod";
import type { KindSchemas } from "../../registry/schema.js";

export const lossesSection = (k: KindSchemas) =>
  z
    .array(k.slot("loss"))
    .min(1)
    .describe("Loss components; the total is Σ weight · loss. Each entry: `type:`, `weight:` and its parameters.");
