// static: uniform routing with no parameters (the baseline without routing).
import { z } from "zod";
import { defineRouter } from "../registry/define.js";

export const staticRouter = defineRouter({
  name: "static",
  doc: "Uniform routing, no parameters: every path gets the same weight (the no-routing baseline).",
  params: z.object({}),
  build: () => {
    throw new Error("static: not implemented yet");
  },
});
