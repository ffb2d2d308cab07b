// shoes: the Shoes relative-captions dataset over the attribute-discovery images (womens_* folders).
import { join, resolve } from "node:path";
import { z } from "zod";
import { defineDataset } from "../../registry/define.js";
import { fileImages, indexImages, lines, readJson, readText, unique } from "../files.js";
import { imageParams, loaderParams, textParams } from "../params.js";
import type { EvalQuery, Pair } from "../types.js";

interface ShoesCaption {
  ImageName: string; // target
  ReferenceImageName: string;
  RelativeCaption: string;
}

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
  build: async (p, ctx) => {
    const root = resolve(ctx.cwd, p.root);
    const expected = `data.root should hold ${p.captions_file}, ${p.train_list} and ${p.eval_list} (and the womens_* image folders)`;
    const captions = await readJson<ShoesCaption[]>(join(root, p.captions_file), "shoes", expected);
    const trainNames = new Set(lines(await readText(join(root, p.train_list), "shoes", expected)));
    const gallery = unique(lines(await readText(join(root, p.eval_list), "shoes", expected)));
    const evalIndex = new Map(gallery.map((name, i) => [name, i]));

    // A pair belongs to a split when both of its images do.
    const train: Pair[] = [];
    const queries: EvalQuery[] = [];
    for (const c of captions) {
      const [reference, target, text] = [c.ReferenceImageName, c.ImageName, c.RelativeCaption.trim()];
      if (trainNames.has(reference) && trainNames.has(target)) {
        train.push({ id: train.length, reference, target, text });
      } else if (evalIndex.has(reference) && evalIndex.has(target)) {
        const ref = evalIndex.get(reference)!;
        queries.push({ reference, text, positives: [evalIndex.get(target)!], exclude: p.exclude_reference ? [ref] : [] });
      }
    }

    // The attribute-discovery archive nests images under womens_*/…: find them by name at any depth.
    const imagesDir = join(root, p.images_dir);
    const found = await indexImages(imagesDir, (name, depth) => depth > 0 || name.startsWith("womens_"));
    const needed = unique([...train.flatMap((x) => [x.reference, x.target]), ...gallery]);
    const missingIds = needed.filter((name) => !found.has(name));
    const missing = missingIds.map((name) => join(imagesDir, "womens_*", name));
    return {
      train,
      evalSets: [{ name: "shoes", gallery, queries }],
      images: fileImages((name) => found.get(name), p),
      missing,
      missingIds: new Set(missingIds),
      root: imagesDir,
    };
  },
});
