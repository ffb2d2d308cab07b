// The built-in datasets, in the order `sdfn modules` lists them.
import type { DeclarationOf } from "../../registry/registry.js";
import { fashion200k } from "./fashion200k.js";
import { fashioniq } from "./fashioniq.js";
import { shapes } from "./shapes.js";
import { shoes } from "./shoes.js";

export const builtinDatasets: DeclarationOf<"dataset">[] = [fashioniq, shoes, fashion200k, shapes];
