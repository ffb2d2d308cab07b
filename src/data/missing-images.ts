// data.missing_images: what becomes of a dataset whose images are partly absent (real downloads
// are: FashionIQ's URLs are partly dead, Shoes' host is gone). `error`, the default, refuses it
// before anything is written; `skip` drops the training pairs and evaluation queries that name an
// absent image, and the absent gallery images — what VAL's scripts do silently — counted per split
// and category, the evaluation marked not comparable to published numbers when it lost anything
// (docs/datasets.md "Incomplete downloads").
import { createHash } from "node:crypto";
import type { DatasetSource, EvalQuery, EvalSet, Pair } from "./types.js";

export type MissingImagesPolicy = "error" | "skip";

export interface KeptDropped {
  kept: number;
  dropped: number;
}

/** What `skip` keeps and drops (under `error`, what it would): summary.json's `missing_images`, `sdfn data`. */
export interface MissingImagesRecord {
  policy: MissingImagesPolicy;
  /** Distinct images the annotation files name that are not on disk. */
  missing: number;
  /** SHA-256 of the sorted missing image ids: a resumed run checks that it sees the same images. */
  fingerprint: string;
  /** Training pairs per category ("all" for a dataset without categories). */
  train: Record<string, KeptDropped>;
  /** Per evaluation set: its queries and its gallery images. */
  eval: Record<string, { queries: KeptDropped; gallery: KeptDropped }>;
  /** False when evaluation queries or gallery images are dropped: the recall is not comparable to published numbers. */
  comparable: boolean;
}

/** The policy in a dataset's params; a plugin dataset without the parameter gets the default. */
export const missingImagesPolicy = (params: Record<string, unknown>): MissingImagesPolicy => (params.missing_images === "skip" ? "skip" : "error");

/**
 * `source` without the pairs, queries and gallery images its missing images take with them, and the
 * counts. Pair ids are renumbered from 0 (the distillation cache keys on them). The source's
 * `missing` list stays: it describes the disk, and the kept splits no longer name any of it.
 */
export function dropMissingImages(source: DatasetSource, policy: MissingImagesPolicy): { source: DatasetSource; record: MissingImagesRecord } {
  const missing: ReadonlySet<string> = source.missingIds ?? new Set(source.missing);
  const present = (id: string) => !missing.has(id);

  const train = source.train.filter((p) => present(p.reference) && present(p.target)).map((p, id): Pair => ({ ...p, id }));
  const trainCounts = countBy(source.train, train, (p) => p.category ?? "all");
  const evalCounts: MissingImagesRecord["eval"] = {};
  const evalSets = source.evalSets.map((set) => {
    const kept = keptSet(set, present);
    evalCounts[set.name] = {
      queries: { kept: kept.queries.length, dropped: set.queries.length - kept.queries.length },
      gallery: { kept: kept.gallery.length, dropped: set.gallery.length - kept.gallery.length },
    };
    return kept;
  });
  const comparable = Object.values(evalCounts).every((c) => c.queries.dropped === 0 && c.gallery.dropped === 0);
  const fingerprint = createHash("sha256").update([...missing].sort().join("\n")).digest("hex");
  return {
    source: { ...source, train, evalSets },
    record: { policy, missing: missing.size, fingerprint, train: trainCounts, eval: evalCounts, comparable },
  };
}

/**
 * One evaluation set without its missing images: a query goes when its reference is missing or none
 * of its positives is left; a gallery image goes when it is missing (or, for a gallery made of its
 * queries' images, when no kept query names it). Positive and excluded indices follow the new gallery.
 */
function keptSet(set: EvalSet, present: (id: string) => boolean): EvalSet {
  const queries = set.queries.filter((q) => present(q.reference) && q.positives.some((i) => present(set.gallery[i]!)));
  const named = new Set(queries.flatMap((q) => [q.reference, ...q.positives.map((i) => set.gallery[i]!)]));
  const keep = set.gallery.map((id) => present(id) && (!set.galleryOfQueries || named.has(id)));
  const newIndex: number[] = [];
  let next = 0;
  keep.forEach((k, i) => (newIndex[i] = k ? next++ : -1));
  const remap = (indices: readonly number[]) => indices.filter((i) => keep[i]).map((i) => newIndex[i]!);
  return {
    ...set,
    gallery: set.gallery.filter((_, i) => keep[i]),
    queries: queries.map((q): EvalQuery => ({ ...q, positives: remap(q.positives), exclude: remap(q.exclude) })),
  };
}

/** Kept and dropped items per group, in the order the groups first appear. */
function countBy<T>(all: readonly T[], kept: readonly T[], group: (item: T) => string): Record<string, KeptDropped> {
  const out: Record<string, KeptDropped> = {};
  for (const item of all) (out[group(item)] ??= { kept: 0, dropped: 0 }).dropped++;
  for (const item of kept) {
    const c = out[group(item)]!;
    c.kept++;
    c.dropped--;
  }
  return out;
}

/** "dress 5400/5985" per group: kept of all. */
const keptOfAll = (counts: Record<string, KeptDropped>) =>
  Object.entries(counts)
    .map(([name, c]) => `${name} ${c.kept}/${c.kept + c.dropped}`)
    .join(", ");

/** One line for the run's messages: what `skip` dropped, kept of all per split and category, and whether the evaluation stays comparable. */
export function missingImagesLine(r: MissingImagesRecord): string {
  const evalSets = Object.entries(r.eval);
  const queries = keptOfAll(Object.fromEntries(evalSets.map(([name, c]) => [name, c.queries])));
  const gallery = keptOfAll(Object.fromEntries(evalSets.map(([name, c]) => [name, c.gallery])));
  return (
    `data.missing_images: skip: ${r.missing} image${r.missing === 1 ? "" : "s"} missing; kept of all: training pairs ${keptOfAll(r.train)}; ` +
    `evaluation queries ${queries}; gallery images ${gallery}` +
    (r.comparable ? "; the evaluation lost nothing (comparable to published numbers)" : `; the evaluation is ${NOT_COMPARABLE}`)
  );
}

/** The mark a recall evaluated without some of its images carries (the summary line, the report, sdfn eval). */
export const NOT_COMPARABLE = "not comparable to published numbers: evaluation images were missing (data.missing_images: skip)";
