// Typed constructors for declarations: `defineModule({ name, doc, params, build })`
// checks `build` against the params schema and the kind's contract.
import type { z } from "zod";
import type { Declaration } from "./registry.js";
import type {
  FusionModule,
  ImageEncoder,
  ImageEncoderBuildContext,
  ModuleBuildContext,
  Router,
  RouterBuildContext,
  TextEncoder,
  TextEncoderBuildContext,
} from "./kinds.js";

export const defineModule = <P extends z.ZodObject>(d: Declaration<P, ModuleBuildContext, FusionModule>) => d;
export const defineRouter = <P extends z.ZodObject>(d: Declaration<P, RouterBuildContext, Router>) => d;
export const defineImageEncoder = <P extends z.ZodObject>(
  d: Declaration<P, ImageEncoderBuildContext, ImageEncoder>,
) => d;
export const defineTextEncoder = <P extends z.ZodObject>(d: Declaration<P, TextEncoderBuildContext, TextEncoder>) =>
  d;
