// The built-in losses, in the order `sdfn modules` lists them.
import type { DeclarationOf } from "../../registry/registry.js";
import { batchClassification } from "./batch-classification.js";
import { consistency } from "./consistency.js";
import { pathDistillation } from "./path-distillation.js";

export const builtinLosses: DeclarationOf<"loss">[] = [batchClassification, consistency, pathDistillation];
