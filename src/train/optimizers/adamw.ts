// AdamW: Adam with decoupled weight decay (torch.optim.AdamW semantics).
import { defineOptimizer } from "../../registry/define.js";
import { adamParams, createAdam } from "./adam-update.js";

export const adamw = defineOptimizer({
  name: "adamw",
  doc: "AdamW (Loshchilov & Hutter): Adam with decoupled weight decay p ← p − lr·wd·p; backbone lr multiplier, global-norm clipping.",
  params: adamParams(0.01),
  build: (p, ctx) => createAdam(p, ctx, true),
});
