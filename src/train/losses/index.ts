// The built-in losses, in the order `sdfn modules` lists them.
import type { Declaration } from "../../registry/registry.js";

export const builtinLosses: Declaration<any, any, any>[] = [];
