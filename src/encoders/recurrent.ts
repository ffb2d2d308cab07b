// The recurrent text encoders (lstm, bilstm, gru) share one builder: embeddings (learned or
// GloVe) → masked RNN → word features, max-pooled over valid words → sentence; → d if needed.
// Names: text.embedding.weight, text.rnn.{weight_ih,weight_hh,bias_ih}_l0[_reverse], text.proj.*.
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { dropout } from "../nn/dropout.js";
import { linear } from "../nn/linear.js";
import { gruLayer, lstmLayer, type Recurrent } from "../nn/rnn.js";
import { normal, type Init } from "../nn/scope.js";
import { defineTextEncoder } from "../registry/define.js";
import type { GloveStats, PretrainedSource, TextEncoder } from "../registry/kinds.js";
import { gloveSteps, loadGlove } from "./glove.js";
import { readPretrained } from "./pretrained.js";

export const recurrentParams = z.object({
  hidden: z.number().int().positive().default(1024).describe("Hidden units (per direction); projected to d when different."),
  embedding_dim: z.number().int().positive().default(300).describe("Word embedding size (300 for GloVe)."),
  glove: z
    .string()
    .nullable()
    .optional()
    .describe(
      "Local GloVe text file (relative to the working directory) to initialise the embeddings; null or omitted = learned from scratch.",
    ),
  freeze_embedding: z.boolean().default(false).describe("Keep the word embeddings fixed during training."),
  dropout: z.number().min(0).max(1).default(0).describe("Dropout on the word embeddings while training."),
});

export type RecurrentCell = "lstm" | "bilstm" | "gru";

/** Embedding rows not in GloVe (and every row without GloVe) start N(0, 0.1²). */
const EMBEDDING_STD = 0.1;
/** Added to padded positions before the max over words. */
const NO_WORD = -1e9;

export const declareRecurrent = (name: RecurrentCell, doc: string) =>
  defineTextEncoder({
    name,
    doc,
    params: recurrentParams,
    pretrainedFiles: (p) => (p.glove ? [{ param: "glove", path: p.glove, obtain: gloveSteps(p.glove) }] : []),
    build: (p, { dim, vocabulary, scope, filesDir, pretrained = true }): TextEncoder => {
      let init: Init = normal(EMBEDDING_STD);
      let glove: GloveStats | undefined;
      let source: PretrainedSource | undefined;
      if (p.glove && pretrained) {
        const table = readPretrained("glove", resolve(filesDir, p.glove), (file) => loadGlove(file, vocabulary.words, p.embedding_dim));
        glove = table.stats;
        const words = glove.found + glove.missing;
        source = { param: "glove", file: glove.file, sha256: table.sha256, bytes: table.bytes, loaded: `text.embedding: ${glove.found} of ${words} words` };
        init = (rng, shape) => {
          const values = normal(EMBEDDING_STD)(rng, shape); // same draws with or without GloVe
          table.rows.forEach((row, i) => row && values.set(row, i * p.embedding_dim));
          return values;
        };
      }
      const embedding = scope.child("embedding").param("weight", [vocabulary.size, p.embedding_dim], init, !p.freeze_embedding);
      const rnnScope = scope.child("rnn");
      const cell = name === "gru" ? gruLayer : lstmLayer;
      const directions: Recurrent[] = [cell(rnnScope, p.embedding_dim, p.hidden, "_l0")];
      if (name === "bilstm") directions.push(lstmLayer(rnnScope, p.embedding_dim, p.hidden, "_l0_reverse"));
      const width = p.hidden * directions.length;
      const proj = width !== dim ? linear(scope.child("proj"), width, dim) : null;
      return {
        glove,
        pretrained: source,
        encode: (tokens, mask, fc) =>
          tf.tidy(() => {
            const x = dropout(tf.gather(embedding, tokens) as tf.Tensor3D, p.dropout, fc, 1); // (B, T, E); T may be padded
            const h = directions.map((rnn, k) => rnn.run(x, mask, k === 1));
            let words = (h.length === 1 ? h[0]! : tf.concat(h, 2)) as tf.Tensor3D; // (B, T, width), 0 at padding
            const m = mask.expandDims(2); // (B, T, 1)
            if (proj) words = tf.mul(proj.apply(words), m) as tf.Tensor3D;
            // max over the valid words; a text with none gets 0
            const masked = tf.add(words, tf.mul(tf.sub(1, m), NO_WORD));
            const any = tf.cast(tf.greater(tf.sum(mask, 1, true), 0), "float32"); // (B, 1)
            const sentence = tf.mul(tf.max(masked, 1), any) as tf.Tensor2D;
            return { words, sentence };
          }),
      };
    },
  });
