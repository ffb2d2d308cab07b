// The built-in routers (msr, shared, static), in the order `sdfn modules` lists them.
import type { Declaration } from "../registry/registry.js";

export const builtinRouters: Declaration<any, any, any>[] = [];
