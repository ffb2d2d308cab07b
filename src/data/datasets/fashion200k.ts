// fashion200k: Fashion200k label files; training pairs are images whose descriptions differ in one word.
import { z } from "zod";
import { defineDataset } from "../dataset.js";
import { imageParams, loaderParams, textParams } from "../params.js";

export const FASHION200K_CATEGORIES = ["dress", "jacket", "pants", "skirt", "top"] as const;

export const fashion200k = defineDataset({
  name: "fashion200k",
  doc: 'Fashion200k: "replace X with Y" pairs of descriptions differing in one word; test queries from test_queries.txt.',
  params: z.object({
    root: z.string().default("data/fashion200k").describe("Dataset folder (relative to the working directory); label paths are relative to it."),
    labels_dir: z.string().default("labels").describe("Folder of <category>_{train,test}_detect_all.txt, relative to root."),
    categories: z
      .array(z.enum(FASHION200K_CATEGORIES))
      .min(1)
      .default([...FASHION200K_CATEGORIES])
      .describe("Label files to read."),
    test_queries: z.string().default("test_queries.txt").describe('Evaluation queries, "source target" image paths per line, relative to root.'),
    pairs_per_image: z
      .number()
      .int()
      .positive()
      .default(1)
      .describe("Training pairs drawn (seeded) per source image among the images one word away."),
    exclude_reference: z.boolean().default(true).describe("Remove the source image from its own ranking."),
    ...imageParams,
    ...textParams,
    ...loaderParams,
  }),
  build: async () => {
    throw new Error("fashion200k: not implemented yet");
  },
});
