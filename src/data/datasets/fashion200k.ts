// fashion200k: Fashion200k label files; training pairs are images whose descriptions differ in one word.
import { resolve } from "node:path";
import { z } from "zod";
import { Rng } from "../../util/rng.js";
import { defineDataset } from "../../registry/define.js";
import { annotationError, readLineAnnotations, type AnnotationFile, type FileProblem } from "../annotations.js";
import { dataPathParam } from "../data-paths.js";
import { existingFiles, fileImages, insideRoot, unique } from "../files.js";
import { imageParams, loaderParams, missingImagesParams, textParams } from "../params.js";
import type { EvalQuery, Pair } from "../types.js";

/** One label line: `path \t detection_score \t description` (a description may hold tabs too). */
const LABEL = z.object({
  path: z.string().min(1),
  score: z.string().regex(/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, "expected a detection score (a number)"),
  description: z.string().regex(/\S/, "expected a description (words)"),
});
const LABEL_FORMAT = "one labelled image per line: path<TAB>detection_score<TAB>description";
const labelFields = (line: string) => {
  const [path, score, ...words] = line.split("\t");
  return { path, score: score?.trim(), description: words.length ? words.join(" ") : undefined };
};
/** One test query: `source target` image paths. */
const QUERY = z.object({ source: z.string().min(1), target: z.string().min(1), extra: z.number().max(0, "more than two paths on the line (expected: source target)") });
const QUERY_FORMAT = 'one query per line: "source target" (two image paths of the test label files)';
const queryFields = (line: string) => {
  const [source, target, ...rest] = line.split(/\s+/);
  return { source, target, extra: rest.length };
};

/** A label line: its image path (relative to root) and its description as written, trimmed. */
interface Labelled {
  path: string;
  description: string;
}

/** Training groups descriptions lowercased and single-spaced (evaluation compares them as written, as TIRG does). */
const normalise = (d: string) => d.toLowerCase().trim().split(/\s+/).join(" ");

/** "replace X with Y": the first source word absent from the target, and vice versa (as TIRG reads it). */
export function replaceText(source: string, target: string): string {
  const [s, t] = [source.trim().split(/\s+/), target.trim().split(/\s+/)];
  const x = s.find((w) => !t.includes(w)) ?? s[s.length - 1];
  const y = t.find((w) => !s.includes(w)) ?? t[t.length - 1];
  return `replace ${x} with ${y}`;
}

/** For each description, the other descriptions one word away (sharing a "parent": the words minus one). */
function neighbours(descriptions: readonly string[]): Map<string, string[]> {
  const byParent = new Map<string, Set<string>>();
  for (const d of descriptions) {
    const words = d.split(" ");
    words.forEach((_, i) => {
      const parent = words.filter((__, j) => j !== i).join(" ");
      if (!byParent.has(parent)) byParent.set(parent, new Set());
      byParent.get(parent)!.add(d);
    });
  }
  const out = new Map<string, string[]>(descriptions.map((d) => [d, []]));
  for (const group of byParent.values()) {
    if (group.size < 2) continue;
    for (const d of group) for (const e of group) if (e !== d) out.get(d)!.push(e);
  }
  for (const [d, list] of out) out.set(d, unique(list).sort());
  return out;
}

export const FASHION200K_CATEGORIES = ["dress", "jacket", "pants", "skirt", "top"] as const;

export const fashion200k = defineDataset({
  name: "fashion200k",
  doc: 'Fashion200k: "replace X with Y" pairs of descriptions differing in one word; test queries from test_queries.txt over the gallery TIRG builds (docs/datasets.md).',
  params: z.object({
    root: z.string().default("data/fashion200k").describe("Dataset folder (relative to the working directory); label paths are relative to it."),
    labels_dir: dataPathParam("labels", "Folder of <category>_{train,test}_detect_all.txt, relative to root."),
    categories: z
      .array(z.enum(FASHION200K_CATEGORIES))
      .min(1)
      .default([...FASHION200K_CATEGORIES])
      .describe("Label files to read."),
    test_queries: dataPathParam("test_queries.txt", 'Evaluation queries, "source target" image paths per line, relative to root.'),
    pairs_per_image: z
      .number()
      .int()
      .positive()
      .default(1)
      .describe("Training pairs drawn (seeded) per source image among the images one word away."),
    exclude_reference: z.boolean().default(true).describe("Remove the source image's entry from its own ranking."),
    ...missingImagesParams,
    ...imageParams,
    ...textParams,
    ...loaderParams,
  }),
  build: async (p, ctx) => {
    const root = resolve(ctx.cwd, p.root);
    const expected = `data.root should hold ${p.labels_dir}/<category>_{train,test}_detect_all.txt and ${p.test_queries}`;
    const annotationFile = (file: string, format: string): AnnotationFile => ({ dataset: "fashion200k", file, format, expected });
    const readSplit = async (split: string) => {
      const out: Labelled[] = [];
      for (const category of p.categories) {
        const file = resolve(root, p.labels_dir, `${category}_${split}_detect_all.txt`);
        for (const { line, value } of await readLineAnnotations(annotationFile(file, LABEL_FORMAT), labelFields, LABEL)) {
          insideRoot(root, value.path, `${file}:${line}`, "fashion200k", ctx.allowOutsideRoot);
          out.push({ path: value.path, description: value.description.trim() });
        }
      }
      return out;
    };
    const [trainImages, testImages] = [await readSplit("train"), await readSplit("test")];

    // Training pairs: per source image, `pairs_per_image` targets whose description is one word away (seeded).
    const rng = new Rng(ctx.seed ^ 0x200c);
    const byDescription = new Map<string, string[]>();
    for (const im of trainImages) {
      const description = normalise(im.description);
      if (!byDescription.has(description)) byDescription.set(description, []);
      byDescription.get(description)!.push(im.path);
    }
    const near = neighbours([...byDescription.keys()]);
    const train: Pair[] = [];
    for (const source of trainImages) {
      const own = normalise(source.description);
      const options = near.get(own)!;
      for (let r = 0; r < p.pairs_per_image && options.length > 0; r++) {
        const description = options[rng.int(options.length)]!;
        const targets = byDescription.get(description)!;
        const text = replaceText(own, description);
        train.push({ id: train.length, reference: source.path, target: targets[rng.int(targets.length)]!, text });
      }
    }

    // Evaluation as TIRG builds it (docs/datasets.md "Fashion200k"): one gallery entry per test label
    // line, so an image listed twice is there twice; descriptions compare as written (case kept); a query's
    // source and target are their paths' last lines; a hit is any entry with the target's description,
    // and the source's entry is excluded from its ranking.
    const gallery = testImages.map((im) => im.path);
    const lastEntry = new Map(gallery.map((path, i) => [path, i]));
    const withDescription = new Map<string, number[]>();
    testImages.forEach(({ description }, i) => {
      if (!withDescription.has(description)) withDescription.set(description, []);
      withDescription.get(description)!.push(i);
    });
    const queryFile = annotationFile(resolve(root, p.test_queries), QUERY_FORMAT);
    const queryLines = await readLineAnnotations(queryFile, queryFields, QUERY);
    // Both images of a query are test images of the label files read (never quoted: the file's content).
    const unknown: FileProblem[] = queryLines.flatMap(({ line, value }) =>
      (["source", "target"] as const)
        .filter((field) => !lastEntry.has(value[field]))
        .map((field) => ({ line, message: `the ${field} image is not a test image of the label files (categories ${p.categories.join(", ")})` })),
    );
    if (unknown.length) throw annotationError({ ...queryFile, format: `queries over the images of ${p.labels_dir}/<category>_test_detect_all.txt` }, unknown);
    const queries: EvalQuery[] = queryLines.map(({ value }) => {
      const [source, target] = [lastEntry.get(value.source)!, lastEntry.get(value.target)!];
      const wanted = testImages[target]!.description;
      return {
        reference: value.source,
        text: replaceText(testImages[source]!.description, wanted),
        positives: withDescription.get(wanted)!,
        exclude: p.exclude_reference ? [source] : [],
      };
    });

    const protocolCounts = tirgCounts(gallery, testImages, queries);

    const imagesDir = resolve(root);
    const needed = unique([...trainImages.map((im) => im.path), ...gallery]);
    const present = await existingFiles(needed.map((path) => resolve(imagesDir, path)));
    const missingIds = needed.filter((path) => !present.has(resolve(imagesDir, path)));
    return {
      train,
      evalSets: [{ name: "fashion200k", gallery, queries }],
      images: fileImages((path) => resolve(imagesDir, path), p),
      missing: missingIds.map((path) => resolve(imagesDir, path)),
      missingIds: new Set(missingIds),
      root: imagesDir,
      protocolCounts,
    };
  },
});

/**
 * What TIRG's gallery means for these files (`sdfn data` prints it): label lines, the lines that
 * repeat an image, and the queries where a hit and a non-hit are one image listed twice with two
 * descriptions. Those two score alike; sdfn ranks the hit first, TIRG's np.argsort leaves the order to
 * its sort, so only these queries can differ from TIRG's recall (docs/datasets.md "Fashion200k").
 */
function tirgCounts(gallery: readonly string[], lines: readonly Labelled[], queries: readonly EvalQuery[]): Record<string, number> {
  const descriptionsOf = new Map<string, Set<string>>();
  lines.forEach(({ path, description }) => (descriptionsOf.get(path) ?? descriptionsOf.set(path, new Set()).get(path)!).add(description));
  const tied = queries.filter((q) => q.positives.some((i) => descriptionsOf.get(gallery[i]!)!.size > 1)).length;
  return { label_lines: lines.length, duplicate_label_lines: lines.length - descriptionsOf.size, queries_with_a_hit_tied_to_a_non_hit: tied };
}
