// The built-in text encoders (lstm, bilstm, gru), in the order `sdfn modules` lists them.
import type { Declaration } from "../registry/registry.js";
import { bilstm } from "./bilstm.js";
import { gru } from "./gru.js";
import { lstm } from "./lstm.js";

export const builtinTextEncoders: Declaration<any, any, any>[] = [lstm, bilstm, gru];
