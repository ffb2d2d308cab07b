// Registers every built-in declaration: one explicit list per kind, no import side effects.
import { builtinImageEncoders } from "../encoders/image-index.js";
import { builtinTextEncoders } from "../encoders/text-index.js";
import { builtinModules } from "../modules/index.js";
import { builtinRouters } from "../routers/index.js";
import { builtinLosses } from "../train/losses/index.js";
import { builtinOptimizers } from "../train/optimizers/index.js";
import { builtinSchedules } from "../train/schedules/index.js";
import { builtinDatasets } from "../data/datasets/index.js";
import { Registry, type Declaration, type Kind } from "./registry.js";

const BUILTINS: [Kind, Declaration<any, any, any>[]][] = [
  ["module", builtinModules],
  ["router", builtinRouters],
  ["image_encoder", builtinImageEncoders],
  ["text_encoder", builtinTextEncoders],
  ["loss", builtinLosses],
  ["dataset", builtinDatasets],
  ["optimizer", builtinOptimizers],
  ["schedule", builtinSchedules],
];

/** A new registry holding every built-in declaration. */
export function createRegistry(): Registry {
  const registry = new Registry();
  for (const [kind, declarations] of BUILTINS) {
    for (const declaration of declarations) registry.register(kind, declaration);
  }
  return registry;
}
