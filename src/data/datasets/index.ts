// The built-in datasets, in the order `sdfn modules` lists them.
import type { Declaration } from "../../registry/registry.js";

export const builtinDatasets: Declaration<any, any, any>[] = [];
