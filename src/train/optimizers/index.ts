// The built-in optimizers, in the order `sdfn modules` lists them.
import type { Declaration } from "../../registry/registry.js";

export const builtinOptimizers: Declaration<any, any, any>[] = [];
