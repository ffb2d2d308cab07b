// The built-in text encoders (lstm, bilstm, gru), in the order `sdfn modules` lists them.
import type { Declaration } from "../registry/registry.js";

export const builtinTextEncoders: Declaration<any, any, any>[] = [];
