// The built-in optimizers, in the order `sdfn modules` lists them.
import type { Declaration } from "../../registry/registry.js";
import { adam } from "./adam.js";
import { adamw } from "./adamw.js";

export const builtinOptimizers: Declaration<any, any, any>[] = [adam, adamw];
