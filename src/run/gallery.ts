// RUN/gallery.json: retrievals to look at in report.html — a few hits and misses of the
// run's first evaluation set with their top 5, the true targets and routing paths, and
// every image involved as a small data URI. Written at the end of training (final weights).
import { replaceFile } from "../io/owned-files.js";
import { retrievalExamples, type RetrievalExample } from "../eval/gallery.js";
import { thumbnails } from "../eval/thumbnails.js";
import type { OpenDataset } from "../data/index.js";
import type { Network } from "../graph/compile.js";
import { openRun } from "./open-run.js";
import { RunDir } from "./run-dir.js";
import type { Session } from "./session.js";

export interface GalleryFile {
  format: 1;
  k: number;
  /** Module names per fusion layer (the routing paths' rows). */
  layers: string[][];
  examples: RetrievalExample[];
  /** Image id → data URI. */
  images: Record<string, string>;
}

export interface GalleryOptions {
  k?: number;
  hits?: number;
  misses?: number;
  /** How many of the set's first queries to rank when choosing (default 64). */
  scan?: number;
  /** Thumbnail side in pixels (default 96). */
  size?: number;
}

/** Example retrievals of `net` on `dataset`'s first evaluation set, with their images. */
export async function galleryOf(net: Network, dataset: OpenDataset, batchSize: number, o: GalleryOptions = {}): Promise<GalleryFile> {
  const set = dataset.evalSets[0];
  const k = o.k ?? 5;
  if (!set) return { format: 1, k, layers: net.layers, examples: [], images: {} };
  const examples = await retrievalExamples(net, dataset.loader, set, { k, hits: o.hits ?? 3, misses: o.misses ?? 3, scan: o.scan ?? 64, batchSize });
  return { format: 1, k, layers: net.layers, examples, images: await imagesOf(dataset, examples, o.size ?? 96) };
}

/** The thumbnails of every reference, retrieved image and target of `examples`. */
export function imagesOf(dataset: OpenDataset, examples: readonly RetrievalExample[], size: number): Promise<Record<string, string>> {
  const ids = examples.flatMap((e) => [e.reference, ...e.top.map((t) => t.id), ...e.targets]);
  const { mean, std } = dataset.params as { mean: number[]; std: number[] };
  return thumbnails(dataset.loader, ids, { mean, std, size });
}

/** Writes RUN/gallery.json (a temporary file, then a rename); returns its path. */
function saveGallery(dir: RunDir, gallery: GalleryFile): string {
  replaceFile(dir.gallery, JSON.stringify(gallery));
  return dir.gallery;
}

/** At the end of training: the gallery of the session's network as trained. */
export async function writeSessionGallery(dir: RunDir, session: Session, o: GalleryOptions = {}): Promise<string> {
  return saveGallery(dir, await galleryOf(session.network, session.dataset, session.loaded.recipe.evaluation.batch_size, o));
}

/** RUN/gallery.json again from a checkpoint of the run (best, else last; e.g. a run trained before galleries existed). */
export async function writeGallery(runDir: string, o: GalleryOptions = {}): Promise<string> {
  const dir = new RunDir(runDir);
  const run = await openRun(dir.path, dir.hasCheckpoint("best") ? "best" : "last");
  try {
    return saveGallery(dir, await galleryOf(run.net, run.dataset, run.loaded.recipe.evaluation.batch_size, o));
  } finally {
    run.dispose();
  }
}
