// fashioniq: FashionIQ (dress, shirt, toptee) from its captions/ and image_splits/ JSON files.
import { z } from "zod";
import { defineDataset } from "../dataset.js";
import { captionParams, imageParams, loaderParams, textParams } from "../params.js";

export const FASHIONIQ_CATEGORIES = ["dress", "shirt", "toptee"] as const;

export const fashioniq = defineDataset({
  name: "fashioniq",
  doc: "FashionIQ: relative captions on dress/shirt/toptee; `val` (VAL) or `original` evaluation protocol.",
  params: z.object({
    root: z.string().default("data/fashioniq").describe("Dataset folder (relative to the working directory)."),
    categories: z
      .array(z.enum(FASHIONIQ_CATEGORIES))
      .min(1)
      .default([...FASHIONIQ_CATEGORIES])
      .describe("Categories to train and evaluate on; one evaluation set each."),
    protocol: z
      .enum(["val", "original"])
      .default("val")
      .describe("Evaluation gallery: `val` = the candidates and targets of the val pairs; `original` = the category's whole val split."),
    captions_dir: z.string().default("captions").describe("Folder of cap.<category>.<split>.json, relative to root."),
    splits_dir: z.string().default("image_splits").describe("Folder of split.<category>.<split>.json, relative to root."),
    images_dir: z
      .string()
      .default("images")
      .describe("Folder of <ASIN>.jpg|png relative to root: one folder for all, or one subfolder per category."),
    exclude_reference: z.boolean().default(true).describe("Remove the reference image from its own ranking."),
    ...captionParams,
    ...imageParams,
    ...textParams,
    ...loaderParams,
  }),
  build: async () => {
    throw new Error("fashioniq: not implemented yet");
  },
});
