// shoes: the Shoes relative-captions dataset over the attribute-discovery images (womens_* folders).
import { join, resolve } from "node:path";
import { z } from "zod";
import { defineDataset } from "../../registry/define.js";
import { annotationError, imageName, readJsonAnnotations, readLineAnnotations, type AnnotationFile, type FileProblem } from "../annotations.js";
import { dataPathParam } from "../data-paths.js";
import { fileImages, indexImages, unique } from "../files.js";
import { imageParams, loaderParams, missingImagesParams, textParams } from "../params.js";
import type { EvalQuery, Pair } from "../types.js";

/** relative_captions_shoes.json: ImageName is the target. */
const CAPTIONS = z.array(z.object({ ImageName: imageName, ReferenceImageName: imageName, RelativeCaption: z.string() })).min(1);
const CAPTIONS_FORMAT = 'a non-empty list of {"ImageName": target, "ReferenceImageName": reference, "RelativeCaption": "…"}';
const LIST_FORMAT = "one image file name per line (img_womens_….jpg)";

export const shoes = defineDataset({
  name: "shoes",
  doc: "Shoes: relative captions on women's shoes; a pair is in a split when both its images are; gallery = eval images.",
  params: z.object({
    root: z.string().default("data/shoes").describe("Dataset folder (relative to the working directory)."),
    captions_file: dataPathParam("relative_captions_shoes.json", "Relative captions, relative to root."),
    train_list: dataPathParam("train_im_names.txt", "Training image names, one per line, relative to root."),
    eval_list: dataPathParam("eval_im_names.txt", "Evaluation image names, one per line, relative to root."),
    images_dir: dataPathParam(".", "Folder holding the womens_* image folders, relative to root; images are found by name at any depth."),
    exclude_reference: z.boolean().default(true).describe("Remove the reference image from its own ranking."),
    ...missingImagesParams,
    ...imageParams,
    ...textParams,
    ...loaderParams,
  }),
  build: async (p, ctx) => {
    const root = resolve(ctx.cwd, p.root);
    const expected = `data.root should hold ${p.captions_file}, ${p.train_list} and ${p.eval_list} (and the womens_* image folders)`;
    const annotationFile = (file: string, format: string): AnnotationFile => ({ dataset: "shoes", file: resolve(root, file), format, expected });
    const captionsFile = annotationFile(p.captions_file, CAPTIONS_FORMAT);
    const captions = await readJsonAnnotations(captionsFile, CAPTIONS);
    const names = async (file: string) => (await readLineAnnotations(annotationFile(file, LIST_FORMAT), (line) => line, imageName)).map((l) => l.value);
    const trainNames = new Set(await names(p.train_list));
    const gallery = unique(await names(p.eval_list));
    const evalIndex = new Map(gallery.map((name, i) => [name, i]));

    // Every captioned image is in one of the lists (a name in neither is a typo or lists of another release).
    const unlisted: FileProblem[] = captions.data.flatMap((c, i) =>
      (["ImageName", "ReferenceImageName"] as const)
        .filter((field) => !trainNames.has(c[field]) && !evalIndex.has(c[field]))
        .map((field) => captions.at([i, field], `entry [${i}], "${field}": names an image in neither ${p.train_list} nor ${p.eval_list}`)),
    );
    if (unlisted.length) throw annotationError({ ...captionsFile, format: `captions of images listed in ${p.train_list} or ${p.eval_list}` }, unlisted);

    // A pair belongs to a split when both of its images do.
    const train: Pair[] = [];
    const queries: EvalQuery[] = [];
    for (const c of captions.data) {
      const [reference, target, text] = [c.ReferenceImageName, c.ImageName, c.RelativeCaption.trim()];
      if (trainNames.has(reference) && trainNames.has(target)) {
        train.push({ id: train.length, reference, target, text });
      } else if (evalIndex.has(reference) && evalIndex.has(target)) {
        const ref = evalIndex.get(reference)!;
        queries.push({ reference, text, positives: [evalIndex.get(target)!], exclude: p.exclude_reference ? [ref] : [] });
      }
    }

    // The attribute-discovery archive nests images under womens_*/…: find them by name at any depth.
    const imagesDir = resolve(root, p.images_dir);
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
