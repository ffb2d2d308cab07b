// Adam with L2 weight decay added to the gradient (torch.optim.Adam semantics).
import { defineOptimizer } from "../../registry/define.js";
import { adamParams, createAdam } from "./adam-update.js";

export const adam = defineOptimizer({
  name: "adam",
  doc: "Adam (Kingma & Ba) with L2 weight decay added to the gradient, as torch.optim.Adam; backbone lr multiplier, global-norm clipping.",
  params: adamParams(0),
  build: (p, ctx) => createAdam(p, ctx, false),
});
