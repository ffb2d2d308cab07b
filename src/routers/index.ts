// The built-in routers (msr, shared, static), in the order `sdfn modules` lists them.
import type { DeclarationOf } from "../registry/registry.js";
import { msr } from "./msr.js";
import { shared } from "./shared.js";
import { staticRouter } from "./static.js";

export const builtinRouters: DeclarationOf<"router">[] = [msr, shared, staticRouter];
