// The built-in learning-rate schedules, in the order `sdfn modules` lists them.
import type { DeclarationOf } from "../../registry/registry.js";
import { cosine } from "./cosine.js";
import { multistep } from "./multistep.js";
import { step } from "./step.js";

export const builtinSchedules: DeclarationOf<"schedule">[] = [step, multistep, cosine];
