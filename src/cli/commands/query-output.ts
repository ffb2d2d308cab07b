// What `sdfn query` prints besides its table: --list (the evaluation queries: reference,
// text, target), --json (the ranking as data) and --html (the retrieval as a gallery page,
// with thumbnails and the routing path).
import { writeFileSync } from "node:fs";
import type { OpenDataset } from "../../data/index.js";
import type { RetrievalExample } from "../../eval/gallery.js";

export interface Ranked {
  reference: string;
  text: string;
  set: string | null;
  gallerySize: number;
  top: { id: string; score: number }[];
  /** The targets when (reference, text) is a query of an evaluation set. */
  targets: string[];
  /** 0-based rank of the best-ranked target in the whole gallery (beyond the top K too); null when no target is known there. */
  targetRank: number | null;
}

/** "target test/0/0/2: rank 37 of 1024 (beyond the top 5)". */
export function targetLine(r: Ranked): string {
  const what = `target${r.targets.length > 1 ? "s" : ""} ${r.targets.join(", ")}`;
  if (r.targetRank === null) return `${what}: not in this gallery${r.set ? ` (--eval-set ${r.set})` : ""}`;
  return `${what}: rank ${r.targetRank + 1} of ${r.gallerySize}${r.targetRank >= r.top.length ? ` (beyond the top ${r.top.length})` : ""}`;
}

/** The evaluation queries, `limit` per set: set, index, reference, text, targets. */
export function exampleList(dataset: OpenDataset, setName: string | undefined, limit: number) {
  const sets = setName ? dataset.evalSets.filter((s) => s.name === setName) : dataset.evalSets;
  return sets.flatMap((set) =>
    set.queries.slice(0, limit).map((q, i) => ({ set: set.name, index: i, reference: q.reference, text: q.text, targets: q.positives.map((p) => set.gallery[p]!) })),
  );
}

export function listText(list: ReturnType<typeof exampleList>): string {
  return list.map((e) => `${e.set}  #${e.index}  ${e.reference}  "${e.text}"  → ${e.targets.join(", ")}`).join("\n") + "\n";
}

/** The targets of (reference, text) if an evaluation set has that query. */
export function knownTargets(dataset: OpenDataset, reference: string, text: string): string[] {
  for (const set of dataset.evalSets) {
    const q = set.queries.find((x) => x.reference === reference && x.text === text);
    if (q) return q.positives.map((p) => set.gallery[p]!);
  }
  return [];
}

export const rankedJson = (r: Ranked) =>
  `${JSON.stringify({ reference: r.reference, text: r.text, set: r.set, gallery_size: r.gallerySize, targets: r.targets, target_rank: r.targetRank === null ? null : r.targetRank + 1, top: r.top.map((t, i) => ({ rank: i + 1, ...t })) }, null, 2)}\n`;

/** Writes the one-query gallery page (thumbnails of the reference, the results and a known target). */
export async function writeQueryPage(file: string, dataset: OpenDataset, r: Ranked, paths: number[][][], layers: string[][], referenceFile?: string): Promise<void> {
  const { imagesOf } = await import("../../run/gallery.js");
  const { galleryPage } = await import("../../report/gallery.js");
  const targets = new Set(r.targets);
  const example: RetrievalExample = {
    set: r.set ?? "all sets",
    query: -1,
    reference: r.reference,
    text: r.text,
    targets: r.targets,
    rank: r.targetRank,
    top: r.top.map((t) => ({ ...t, hit: targets.has(t.id) })),
    paths,
  };
  const ids = { ...example, reference: referenceFile ? (r.top[0]?.id ?? r.reference) : r.reference }; // a file is not a gallery id
  const images = await imagesOf(dataset, [ids], 96);
  if (referenceFile) {
    const sharp = (await import("sharp")).default;
    const jpeg = await sharp(referenceFile).resize(96, 96, { fit: "inside" }).jpeg({ quality: 75 }).toBuffer();
    images[r.reference] = `data:image/jpeg;base64,${jpeg.toString("base64")}`;
  }
  writeFileSync(file, galleryPage(`sdfn query · “${r.text}”`, { format: 1, k: r.top.length, layers, examples: [example], images }));
}
