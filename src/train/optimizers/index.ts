// The built-in optimizers, in the order `sdfn modules` lists them.
import type { DeclarationOf } from "../../registry/registry.js";
import { adam } from "./adam.js";
import { adamw } from "./adamw.js";

export const builtinOptimizers: DeclarationOf<"optimizer">[] = [adam, adamw];
