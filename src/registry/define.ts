// Typed constructors for declarations, one per kind: `defineModule({ name, doc, params, build })`
// checks `build` against the params schema and the kind's contract (KindContracts in kinds.ts).
import type { z } from "zod";
import type { ContextOf, BuiltOf, Declaration, Kind } from "./registry.js";

type Define<K extends Kind> = <P extends z.ZodObject>(d: Declaration<P, ContextOf<K>, BuiltOf<K>>) => Declaration<P, ContextOf<K>, BuiltOf<K>>;
const define = <K extends Kind>(): Define<K> => (d) => d;

export const defineModule = define<"module">();
export const defineRouter = define<"router">();
export const defineImageEncoder = define<"image_encoder">();
export const defineTextEncoder = define<"text_encoder">();
export const defineLoss = define<"loss">();
export const defineDataset = define<"dataset">();
export const defineOptimizer = define<"optimizer">();
export const defineSchedule = define<"schedule">();
