// The built-in fusion modules (JRM, CAM, GTM, RCM), in the order `sdfn modules` lists them.
import type { Declaration } from "../registry/registry.js";
import { cam } from "./cam.js";
import { gtm } from "./gtm.js";
import { jrm } from "./jrm.js";
import { rcm } from "./rcm.js";

export const builtinModules: Declaration<any, any, any>[] = [jrm, cam, gtm, rcm];
