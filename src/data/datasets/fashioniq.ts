// fashioniq: FashionIQ (dress, shirt, toptee) from its captions/ and image_splits/ JSON files.
import { join, resolve } from "node:path";
import { z } from "zod";
import { defineDataset } from "../../registry/define.js";
import { annotationError, imageName, readJsonAnnotations, type AnnotationFile, type FileProblem } from "../annotations.js";
import { dataPathParam } from "../data-paths.js";
import { fileImages, indexImages, unique } from "../files.js";
import { captionParams, imageParams, loaderParams, textParams } from "../params.js";
import type { EvalQuery, EvalSet, Pair } from "../types.js";

export const FASHIONIQ_CATEGORIES = ["dress", "shirt", "toptee"] as const;

/** cap.<category>.<split>.json: the pairs, each with its two (or more) relative captions. */
const CAPTIONS = z.array(z.object({ candidate: imageName, target: imageName, captions: z.array(z.string()).min(1) })).min(1);
type CaptionEntry = z.output<typeof CAPTIONS>[number];
const CAPTIONS_FORMAT = 'a non-empty list of {"candidate": ASIN, "target": ASIN, "captions": ["…", "…"]}';
/** split.<category>.<split>.json: the category's images of that split. */
const SPLIT = z.array(imageName).min(1);
const SPLIT_FORMAT = "a non-empty list of image names (ASINs)";

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
    captions_dir: dataPathParam("captions", "Folder of cap.<category>.<split>.json, relative to root."),
    splits_dir: dataPathParam("image_splits", "Folder of split.<category>.<split>.json, relative to root."),
    images_dir: dataPathParam("images", "Folder of <ASIN>.jpg|png relative to root: one folder for all, or one subfolder per category."),
    exclude_reference: z.boolean().default(true).describe("Remove the reference image from its own ranking."),
    ...captionParams,
    ...imageParams,
    ...textParams,
    ...loaderParams,
  }),
  build: async (p, ctx) => {
    const root = resolve(ctx.cwd, p.root);
    const expected = `data.root should hold ${p.captions_dir}/cap.<category>.<split>.json and ${p.splits_dir}/split.<category>.<split>.json`;
    const annotationFile = (dir: string, name: string, format: string): AnnotationFile => ({ dataset: "fashioniq", file: resolve(root, dir, name), format, expected });
    const captionsOf = (category: string, split: string) => readJsonAnnotations(annotationFile(p.captions_dir, `cap.${category}.${split}.json`, CAPTIONS_FORMAT), CAPTIONS);
    // "c1 and c2" (and "c2 and c1" when asked); empty captions are skipped.
    const joined = (c: readonly string[]) => c.map((x) => x.trim()).filter(Boolean).join(` ${p.caption_join} `);
    const texts = (c: readonly string[], withReversed: boolean) =>
      withReversed ? [joined(c), joined(c.slice().reverse())] : [joined(c)];

    const train: Pair[] = [];
    const evalSets: EvalSet[] = [];
    for (const category of p.categories) {
      for (const e of (await captionsOf(category, "train")).data) {
        for (const text of texts(e.captions, p.reversed_captions !== "none")) {
          train.push({ id: train.length, reference: e.candidate, target: e.target, text, category });
        }
      }
      const val = await captionsOf(category, "val");
      let gallery: string[];
      if (p.protocol === "val") gallery = unique(val.data.flatMap((e) => [e.candidate, e.target]));
      else {
        const splitName = `split.${category}.val.json`;
        gallery = unique((await readJsonAnnotations(annotationFile(p.splits_dir, splitName, SPLIT_FORMAT), SPLIT)).data);
        // Every val pair's target must be in the gallery it is ranked in.
        const inGallery = new Set(gallery);
        const unknown: FileProblem[] = val.data.flatMap((e, i) =>
          inGallery.has(e.target) ? [] : [val.at([i, "target"], `entry [${i}], "target": names an image that is not in ${splitName} (the original protocol's gallery)`)],
        );
        if (unknown.length) throw annotationError(annotationFile(p.captions_dir, `cap.${category}.val.json`, `val targets listed in ${resolve(root, p.splits_dir, splitName)}`), unknown);
      }
      evalSets.push({ name: category, gallery, queries: queriesOf(val.data, gallery) });
    }

    function queriesOf(caps: readonly CaptionEntry[], gallery: string[]): EvalQuery[] {
      const index = new Map(gallery.map((id, i) => [id, i]));
      return caps.flatMap((e) => {
        const target = index.get(e.target)!;
        const ref = index.get(e.candidate);
        const exclude = p.exclude_reference && ref !== undefined ? [ref] : [];
        return texts(e.captions, p.reversed_captions === "train_and_eval").map((text) => ({
          reference: e.candidate,
          text,
          positives: [target],
          exclude,
        }));
      });
    }

    // One folder of <ASIN>.jpg|png, or one subfolder per category (either works).
    const imagesDir = resolve(root, p.images_dir);
    const found = await indexImages(imagesDir, (_, depth) => depth === 0);
    const needed = unique([...train.flatMap((x) => [x.reference, x.target]), ...evalSets.flatMap((s) => [...s.gallery, ...s.queries.map((q) => q.reference)])]);
    const missingIds = needed.filter((id) => !found.has(id));
    const missing = missingIds.map((id) => join(imagesDir, `${id}.jpg|png`));
    return { train, evalSets, images: fileImages((id) => found.get(id), p), missing, missingIds: new Set(missingIds), root: imagesDir };
  },
});
