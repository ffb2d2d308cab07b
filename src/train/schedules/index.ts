// The built-in learning-rate schedules, in the order `sdfn modules` lists them.
import type { Declaration } from "../../registry/registry.js";

export const builtinSchedules: Declaration<any, any, any>[] = [];
