// `fusion:` — the dynamic fusion network: L layers of the same M modules, routed between layers.
import { z } from "zod";
import type { KindSchemas } from "../../registry/schema.js";

export const fusionSection = (k: KindSchemas) =>
  z
    .strictObject({
      layers: z.number().int().min(1).default(3).describe("Number of fusion layers L (3 in the paper)."),
      modules: z
        .array(k.slot("module"))
        .min(1)
        .describe("The M operation modules of every layer, in order (each layer has its own weights)."),
      router: k.slot("router", "msr").describe("How each layer's module outputs are routed to the next layer."),
    })
    .describe("The dynamic fusion network.");
