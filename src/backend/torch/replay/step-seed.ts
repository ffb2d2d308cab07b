// The torch backend's step generator (native/src/ops/random.cc: the dropout masks): seeded once per
// training step from the forward context, so an eager step and a replayed one draw the same masks,
// and a resumed run the same masks as an uninterrupted one.
import * as tf from "@tensorflow/tfjs";

import type { ForwardContext } from "../../../nn/context.js";
import type { TorchBackend } from "../backend.js";

/** The step's seed (drawn from `fc` on the torch backend, with its native generator reseeded by it); 0 on other backends, which draw no step seed. */
export function seedStepGenerator(fc: ForwardContext): number {
  if (tf.getBackend() !== "torch") return 0;
  const seed = fc.seed() >>> 0;
  const addon = (tf.backend() as TorchBackend).native.addon;
  if (typeof addon.seedStep === "function") addon.seedStep(seed);
  return seed;
}
