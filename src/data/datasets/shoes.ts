// shoes: the Shoes relative-captions dataset over the attribute-discovery images (womens_* folders).
import { z } from "zod";
import { defineDataset } from "../dataset.js";
import { imageParams, loaderParams, textParams } from "../params.js";

export const shoes = defineDataset({
  name: "shoes",
  doc: "Shoes: relative captions on women's shoes; a pair is in a split when both its images are; gallery = eval images.",
  params: z.object({
    root: z.string().default("data/shoes").describe("Dataset folder (relative to the working directory)."),
    captions_file: z.string().default("relative_captions_shoes.json").describe("Relative captions, relative to root."),
    train_list: z.string().default("train_im_names.txt").describe("Training image names, one per line, relative to root."),
    eval_list: z.string().default("eval_im_names.txt").describe("Evaluation image names, one per line, relative to root."),
    images_dir: z
      .string()
      .default(".")
      .describe("Folder holding the womens_* image folders, relative to root; images are found by name at any depth."),
    exclude_reference: z.boolean().default(true).describe("Remove the reference image from its own ranking."),
    ...imageParams,
    ...textParams,
    ...loaderParams,
  }),
  build: async () => {
    throw new Error("shoes: not implemented yet");
  },
});
