// The recurrent text encoders (lstm, bilstm, gru) share one builder: embeddings (learned or
// GloVe) → masked RNN → word features, max-pooled over valid words → sentence; → d if needed.
import { z } from "zod";
import { defineTextEncoder } from "../registry/define.js";

export const recurrentParams = z.object({
  hidden: z.number().int().positive().default(1024).describe("Hidden units (per direction); projected to d when different."),
  embedding_dim: z.number().int().positive().default(300).describe("Word embedding size (300 for GloVe)."),
  glove: z
    .string()
    .optional()
    .describe("Local GloVe text file (relative to the recipe) to initialise the embeddings; omitted = learned from scratch."),
  freeze_embedding: z.boolean().default(false).describe("Keep the word embeddings fixed during training."),
  dropout: z.number().min(0).max(1).default(0).describe("Dropout on the word embeddings while training."),
});

export type RecurrentCell = "lstm" | "bilstm" | "gru";

export const declareRecurrent = (name: RecurrentCell, doc: string) =>
  defineTextEncoder({
    name,
    doc,
    params: recurrentParams,
    build: () => {
      throw new Error(`${name}: not implemented yet`);
    },
  });
