// The built-in image encoders (resnet family, small_cnn, features), in the order `sdfn modules` lists them.
import type { Declaration } from "../registry/registry.js";

export const builtinImageEncoders: Declaration<any, any, any>[] = [];
