// fashioniq: FashionIQ (dress, shirt, toptee) from its captions/ and image_splits/ JSON files.
import { join, resolve } from "node:path";
import { z } from "zod";
import { defineDataset } from "../../registry/define.js";
import { fileImages, indexImages, readJson, unique } from "../files.js";
import { captionParams, imageParams, loaderParams, textParams } from "../params.js";
import type { EvalQuery, EvalSet, Pair } from "../types.js";

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
  build: async (p, ctx) => {
    const root = resolve(ctx.cwd, p.root);
    const read = <T>(dir: string, file: string) =>
      readJson<T>(join(root, dir, file), "fashioniq", `data.root should hold ${p.captions_dir}/cap.<category>.<split>.json and ${p.splits_dir}/split.<category>.<split>.json`);
    // "c1 and c2" (and "c2 and c1" when asked); empty captions are skipped.
    const joined = (c: readonly string[]) => c.map((x) => x.trim()).filter(Boolean).join(` ${p.caption_join} `);
    const texts = (c: readonly string[], withReversed: boolean) =>
      withReversed ? [joined(c), joined(c.slice().reverse())] : [joined(c)];

    const train: Pair[] = [];
    const evalSets: EvalSet[] = [];
    for (const category of p.categories) {
      const trainCaps = await read<CaptionEntry[]>(p.captions_dir, `cap.${category}.train.json`);
      for (const e of trainCaps) {
        for (const text of texts(e.captions, p.reversed_captions !== "none")) {
          train.push({ id: train.length, reference: e.candidate, target: e.target, text, category });
        }
      }
      const valCaps = await read<CaptionEntry[]>(p.captions_dir, `cap.${category}.val.json`);
      const gallery =
        p.protocol === "val"
          ? unique(valCaps.flatMap((e) => [e.candidate, e.target]))
          : unique(await read<string[]>(p.splits_dir, `split.${category}.val.json`));
      evalSets.push({ name: category, gallery, queries: queriesOf(category, valCaps, gallery) });
    }

    function queriesOf(category: string, caps: CaptionEntry[], gallery: string[]): EvalQuery[] {
      const index = new Map(gallery.map((id, i) => [id, i]));
      return caps.flatMap((e) => {
        const target = index.get(e.target);
        if (target === undefined) {
          throw new Error(`fashioniq: val pair target ${e.target} (${category}) is not in the ${p.protocol} gallery; is split.${category}.val.json complete?`);
        }
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
    const imagesDir = join(root, p.images_dir);
    const found = await indexImages(imagesDir, (_, depth) => depth === 0);
    const needed = unique([...train.flatMap((x) => [x.reference, x.target]), ...evalSets.flatMap((s) => [...s.gallery, ...s.queries.map((q) => q.reference)])]);
    const missingIds = needed.filter((id) => !found.has(id));
    const missing = missingIds.map((id) => join(imagesDir, `${id}.jpg|png`));
    return { train, evalSets, images: fileImages((id) => found.get(id), p), missing, missingIds: new Set(missingIds), root: imagesDir };
  },
});

interface CaptionEntry {
  target: string;
  candidate: string;
  captions: string[];
}
