// Every built-in declaration, one explicit list per kind (no import side effects).
// It sits above the registry and every built-in folder: the registry imports none of them.
import { builtinImageEncoders } from "./encoders/image-index.js";
import { builtinTextEncoders } from "./encoders/text-index.js";
import { builtinModules } from "./modules/index.js";
import { builtinRouters } from "./routers/index.js";
import { builtinLosses } from "./train/losses/index.js";
import { builtinOptimizers } from "./train/optimizers/index.js";
import { builtinSchedules } from "./train/schedules/index.js";
import { builtinDatasets } from "./data/datasets/index.js";
import { Registry, type DeclarationOf, type Kind } from "./registry/registry.js";

const BUILTINS: { [K in Kind]: DeclarationOf<K>[] } = {
  module: builtinModules,
  router: builtinRouters,
  image_encoder: builtinImageEncoders,
  text_encoder: builtinTextEncoders,
  loss: builtinLosses,
  dataset: builtinDatasets,
  optimizer: builtinOptimizers,
  schedule: builtinSchedules,
};

/** A new registry holding every built-in declaration (kinds in KINDS order). */
export function createRegistry(): Registry {
  const registry = new Registry();
  for (const [kind, declarations] of Object.entries(BUILTINS) as [Kind, DeclarationOf<Kind>[]][]) {
    for (const declaration of declarations) registry.register(kind, declaration);
  }
  return registry;
}
