// The built-in text encoders (lstm, bilstm, gru, CLIP's transformer), in the order `sdfn modules` lists them.
import type { DeclarationOf } from "../registry/registry.js";
import { bilstm } from "./bilstm.js";
import { clipText } from "./clip-text.js";
import { gru } from "./gru.js";
import { lstm } from "./lstm.js";

export const builtinTextEncoders: DeclarationOf<"text_encoder">[] = [lstm, bilstm, gru, clipText];
