// fashioniq: FashionIQ (dress, shirt, toptee) from its captions/ and image_splits/ JSON files.
import { join, resolve } from "node:path";
import { z } from "zod";
import { defineDataset } from "../../registry/define.js";
import { annotationError, imageName, readJsonAnnotations, type AnnotationFile, type FileProblem } from "../annotations.js";
import { dataPathParam } from "../data-paths.js";
import { fileImages, indexImages, unique } from "../files.js";
import { captionParams, imageParams, loaderParams, missingImagesParams, textParams, type QueryForm } from "../params.js";
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
  doc: "FashionIQ: relative captions on dress/shirt/toptee; `val` (VAL) or `original` gallery; queries per caption (VAL), in both orders (CoSMo, ARTEMIS) or joined (CLIP4Cir): docs/datasets.md.",
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
      .describe("Evaluation gallery: `val` (VAL's) = the images the val queries name, references and targets; `original` = the category's whole val split."),
    captions_dir: dataPathParam("captions", "Folder of cap.<category>.<split>.json, relative to root."),
    splits_dir: dataPathParam("image_splits", "Folder of split.<category>.<split>.json, relative to root."),
    images_dir: dataPathParam("images", "Folder of <ASIN>.jpg|png relative to root: one folder for all, or one subfolder per category."),
    exclude_reference: z.boolean().default(true).describe("Remove the reference image from its own ranking."),
    ...captionParams,
    ...missingImagesParams,
    ...imageParams,
    ...textParams,
    ...loaderParams,
  }),
  build: async (p, ctx) => {
    const root = resolve(ctx.cwd, p.root);
    const expected = `data.root should hold ${p.captions_dir}/cap.<category>.<split>.json and ${p.splits_dir}/split.<category>.<split>.json`;
    const annotationFile = (dir: string, name: string, format: string): AnnotationFile => ({ dataset: "fashioniq", file: resolve(root, dir, name), format, expected });
    const captionsOf = (category: string, split: string) => readJsonAnnotations(annotationFile(p.captions_dir, `cap.${category}.${split}.json`, CAPTIONS_FORMAT), CAPTIONS);
    const trainForm = p.train_form === "same" ? p.query_form : p.train_form;

    const train: Pair[] = [];
    const evalSets: EvalSet[] = [];
    for (const category of p.categories) {
      for (const e of (await captionsOf(category, "train")).data) {
        for (const text of captionTexts(e.captions, trainForm, p.caption_join)) {
          train.push({ id: train.length, reference: e.candidate, target: e.target, text, category });
        }
      }
      const val = await captionsOf(category, "val");
      const posed = val.data.flatMap((e) => captionTexts(e.captions, p.query_form, p.caption_join).map((text) => ({ pair: e, text })));
      let gallery: string[];
      // VAL's gallery: the images its queries name (what VAL's ground truth is built from).
      if (p.protocol === "val") gallery = unique(posed.flatMap(({ pair }) => [pair.candidate, pair.target]));
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
      evalSets.push({ name: category, gallery, queries: queriesOf(posed, gallery), galleryOfQueries: p.protocol === "val" });
    }

    function queriesOf(posed: readonly { pair: CaptionEntry; text: string }[], gallery: string[]): EvalQuery[] {
      const index = new Map(gallery.map((id, i) => [id, i]));
      return posed.map(({ pair, text }) => {
        const ref = index.get(pair.candidate);
        return { reference: pair.candidate, text, positives: [index.get(pair.target)!], exclude: p.exclude_reference && ref !== undefined ? [ref] : [] };
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

/**
 * The texts a pair's captions give in `form` (docs/datasets.md "Query forms"), each caption
 * trimmed: per_caption, one per non-empty caption (VAL); joined, "c1 and c2" (CLIP4Cir);
 * both_orders, that and "c2 and c1" (CoSMo, ARTEMIS). A joined text keeps an empty caption's
 * place ("and c2"), as those peers' tokens do; a text without words is not posed.
 */
export function captionTexts(captions: readonly string[], form: QueryForm, join: string): string[] {
  const trimmed = captions.map((c) => c.trim());
  const joined = (order: readonly string[]) => order.join(` ${join} `).trim();
  const texts =
    form === "per_caption" ? trimmed : form === "joined" || trimmed.length < 2 ? [joined(trimmed)] : [joined(trimmed), joined([...trimmed].reverse())];
  return texts.filter((t) => t.length > 0);
}
