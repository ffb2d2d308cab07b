// `evaluation:` — how retrieval is measured. Add an evaluation field here: one line with .default() and .describe().
import { z } from "zod";

export const evaluationSection = () =>
  z
    .strictObject({
      recall_at: z
        .array(z.number().int().min(1))
        .min(1)
        .default([10, 50])
        .describe("K values of Recall@K to report (the dataset's protocol may add its own)."),
      batch_size: z.number().int().min(1).default(64).describe("Images per batch when embedding the gallery and the queries."),
    })
    .describe("Evaluation settings.");
