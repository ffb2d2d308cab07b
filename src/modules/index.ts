// The built-in fusion modules (JRM, CAM, GTM, RCM), in the order `sdfn modules` lists them.
import type { DeclarationOf } from "../registry/registry.js";
import { cam } from "./cam.js";
import { gtm } from "./gtm.js";
import { jrm } from "./jrm.js";
import { rcm } from "./rcm.js";

export const builtinModules: DeclarationOf<"module">[] = [jrm, cam, gtm, rcm];
