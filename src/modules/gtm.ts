// GTM, the global transformation module (DESIGN §2): FiLM of the image tokens by the
// sentence, γ = W_γ s, β = W_β s, out = γ ⊙ x + β.
import { z } from "zod";
import { defineModule } from "../registry/define.js";

export const gtm = defineModule({
  name: "GTM",
  doc: "Global transformation (FiLM): out = γ(s) ⊙ x + β(s), γ and β linear in the sentence feature.",
  params: z.object({}),
  build: () => {
    throw new Error("GTM: not implemented yet");
  },
});
