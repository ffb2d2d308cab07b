// The built-in fusion modules (JRM, CAM, GTM, RCM), in the order `sdfn modules` lists them.
import type { Declaration } from "../registry/registry.js";

export const builtinModules: Declaration<any, any, any>[] = [];
