// The built-in fusion modules: SDFN's JRM, CAM, GTM, RCM, then the peers' composition methods
// (TIRG, ARTEMIS, CLIP4Cir's Combiner; FiLM is GTM), in the order `sdfn modules` lists them.
import type { DeclarationOf } from "../registry/registry.js";
import { artemis } from "./artemis.js";
import { cam } from "./cam.js";
import { combiner } from "./combiner.js";
import { gtm } from "./gtm.js";
import { jrm } from "./jrm.js";
import { rcm } from "./rcm.js";
import { tirg } from "./tirg.js";

export const builtinModules: DeclarationOf<"module">[] = [jrm, cam, gtm, rcm, tirg, artemis, combiner];
