// RCM, the residual connection module (docs/model.md §2): out = x, no parameters.
import { z } from "zod";
import { defineModule } from "../registry/define.js";

export const rcm = defineModule({
  name: "RCM",
  doc: "Residual connection: passes the image tokens through unchanged (no parameters).",
  params: z.object({}),
  build: () => ({ forward: (input) => input.tokens.clone() }),
});
