// An example sdfn plugin: `acme/GatedSum`, a fusion module that mixes each image
// token with a projection of the sentence through a learned sigmoid gate:
//
//   p   = s·W_p + b_p                          (B, d)     the sentence, projected
//   g   = σ(x·W_x + p·W_s + b_g)               (B, N, d)  per channel, or (B, N, 1) per token
//   out = g ⊙ x + (1 − g) ⊙ p                  (B, N, d)
//
// b_g starts at `gate_bias` (σ(1) ≈ 0.73: the module starts close to passing x through).
// Use it from a recipe:   plugins: [./gated-sum.ts]   fusion.modules: [{ type: acme/GatedSum }]
// (see gated-sum.yaml). Plugin files are .ts or .js; `sdfn` loads TypeScript itself.
//
// A plugin exports `register(registry)` and registers each declaration under a
// namespaced name ("acme/…"). A name that is already taken is an error.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { constant, defineModule, glorotUniform, zeros, type PluginRegistry } from "../../src/index.js";

export const gatedSum = defineModule({
  name: "acme/GatedSum",
  doc: "Gated sum (example plugin): out = g ⊙ x + (1 − g) ⊙ W_p s, with a learned sigmoid gate g from x and the projected sentence.",
  params: z.object({
    gate: z
      .enum(["channel", "token"])
      .default("channel")
      .describe("Gate granularity: one gate per token and channel (channel), or one per token (token)."),
    gate_bias: z.number().default(1).describe("Initial gate bias b_g; positive values start the module close to the identity."),
  }),
  build: (params, { dim, scope }) => {
    const gates = params.gate === "channel" ? dim : 1;
    const wp = scope.param("proj.weight", [dim, dim], glorotUniform(dim, dim)); // (d, d)
    const bp = scope.param("proj.bias", [dim], zeros);
    const wx = scope.param("gate.token_weight", [dim, gates], glorotUniform(dim, gates)); // (d, G)
    const ws = scope.param("gate.sentence_weight", [dim, gates], glorotUniform(dim, gates)); // (d, G)
    const bg = scope.param("gate.bias", [gates], constant(params.gate_bias));
    return {
      forward: ({ tokens, sentence }) =>
        tf.tidy(() => {
          const [b, n] = tokens.shape;
          const p = tf.add(tf.matMul(sentence, wp), bp); // (B, d)
          const fromTokens = tf.matMul(tokens.reshape([b * n, dim]), wx).reshape([b, n, gates]); // (B, N, G)
          const fromSentence = tf.matMul(p, ws).expandDims(1); // (B, 1, G)
          const g = tf.sigmoid(tf.add(tf.add(fromTokens, fromSentence), bg)); // (B, N, G)
          const mixed = tf.add(tf.mul(g, tokens), tf.mul(tf.sub(1, g), p.expandDims(1))); // (B, N, d)
          return mixed as tf.Tensor3D;
        }),
    };
  },
});

/** Called by sdfn when a recipe lists this file under `plugins:` (or with --plugin). */
export function register(registry: PluginRegistry): void {
  registry.register("module", gatedSum);
}
