// A catalogue index on disk: one directory written whole and swapped in (src/run/checkpoint-unit.ts:
// a temporary directory, a manifest with the SHA-256 of every file, then a rename), holding
//   index.json       what it is: the run and checkpoint that embedded it, dimension, count, source
//   items.jsonl      one line per item: id, source path, thumbnail place in thumbnails.bin
//   embeddings.npy   (count, dim) float32, L2-normalised target embeddings (numpy.load reads it)
//   thumbnails.bin   every item's small JPEG/PNG, back to back
//   approx.usearch   the approximate (HNSW) index over the same rows, when built (--approx)
// Opening verifies every hash: a damaged or cut-off index is refused naming the file.
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { withPath } from "../io/io-error.js";
import { npyFloat32, readNpyFloat32 } from "../io/npy.js";
import { verifyUnit } from "../run/checkpoint-unit.js";
import { writeDirectory } from "../run/output-dir.js";
import type { RunIdentity } from "../infer/model.js";
import { UserError } from "../util/errors.js";
import { jsonErrorPlace } from "../util/json-file.js";

export const INDEX_FILES = {
  meta: "index.json",
  items: "items.jsonl",
  embeddings: "embeddings.npy",
  thumbnails: "thumbnails.bin",
  approx: "approx.usearch",
  manifest: "manifest.json",
} as const;

/** An index that cannot be used as asked (damaged, another run's, not an index): exit 2 naming the file. */
export class IndexError extends UserError {}

/** What the approximate index was built with. */
export interface ApproxMeta {
  library: "usearch";
  version: string;
  metric: "ip";
  connectivity: number;
  expansion_add: number;
  expansion_search: number;
}

export interface IndexMeta {
  format: "sdfn-index";
  version: 1;
  /** The run and checkpoint whose target encoder embedded the items. */
  run: RunIdentity;
  dim: number;
  count: number;
  /** Where the items came from: a folder or list file of images, or a split of the run's dataset. */
  source: { images: string } | { dataset: string };
  thumbnail_size: number;
  approx: ApproxMeta | null;
  created: string;
  updated: string;
}

export interface IndexItem {
  /** The item's id: its path relative to the images folder (or list file), or the dataset's image id. */
  id: string;
  /** Its image file (absolute), or null for generated images. */
  path: string | null;
  /** Byte offset and length of its thumbnail in thumbnails.bin, and its media type. */
  thumb: [number, number];
  type: "image/jpeg" | "image/png";
}

/** Everything an index holds but its thumbnails (read on demand). */
export interface IndexContents {
  meta: IndexMeta;
  items: IndexItem[];
  /** (count, dim) row-major. */
  embeddings: Float32Array;
}

const damaged = (file: string, why: string) =>
  new IndexError(`${file}: ${why}; the index is damaged: build it again (sdfn index RUN --images DIR --out ${dirname(file)})`);

/** Reads and verifies the index in `dir` (every file's SHA-256 against its manifest). */
export function readIndex(dir: string): IndexContents {
  const root = resolve(dir);
  const metaFile = join(root, INDEX_FILES.meta);
  if (!existsSync(metaFile)) {
    throw new IndexError(`${root}: not an sdfn index (no ${INDEX_FILES.meta}); build one with sdfn index RUN --images DIR --out ${root}`);
  }
  const why = verifyUnit(root)?.replace("the checkpoint was not completed", "the index was not completed");
  if (why) throw new IndexError(`${why}; the index is damaged: build it again (sdfn index RUN --images DIR --out ${root})`);
  const text = readFileSync(metaFile, "utf8");
  let meta: IndexMeta;
  try {
    meta = JSON.parse(text) as IndexMeta;
  } catch (err) {
    throw damaged(metaFile, `not JSON${jsonErrorPlace(text, (err as Error).message)}`);
  }
  if (meta?.format !== "sdfn-index" || meta.version !== 1) throw damaged(metaFile, `not an sdfn index of version 1 (format ${String(meta?.format)}, version ${String(meta?.version)})`);
  const itemsFile = join(root, INDEX_FILES.items);
  const items = readFileSync(itemsFile, "utf8").split("\n").filter(Boolean).map((line, i) => {
    try {
      return JSON.parse(line) as IndexItem;
    } catch {
      throw damaged(itemsFile, `line ${i + 1} is not JSON`);
    }
  });
  const embeddingsFile = join(root, INDEX_FILES.embeddings);
  let matrix;
  try {
    matrix = readNpyFloat32(embeddingsFile);
  } catch (err) {
    throw damaged(embeddingsFile, (err as Error).message.replace(`${embeddingsFile}: `, ""));
  }
  if (items.length !== meta.count || matrix.rows !== meta.count || matrix.cols !== meta.dim) {
    throw damaged(metaFile, `says ${meta.count} items of dimension ${meta.dim}, but ${INDEX_FILES.items} has ${items.length} and ${INDEX_FILES.embeddings} is ${matrix.rows}×${matrix.cols}`);
  }
  return { meta, items, embeddings: matrix.data };
}

export interface IndexWrite extends IndexContents {
  /** Every item's thumbnail bytes, back to back (offsets in items). */
  thumbnails: Uint8Array[];
  /** Writes the approximate index to the file it is given (meta.approx says how it was built). */
  approx?: (file: string) => void;
}

/** Writes the index to `dir` whole: a temporary directory, verified, then renamed over `dir` (an old one goes only then). */
export async function writeIndex(dir: string, w: IndexWrite): Promise<void> {
  await writeDirectory(dir, { marker: INDEX_FILES.meta, format: "sdfn-index" }, (tmp) => {
    const put = (name: string, data: string | Uint8Array) => withPath(join(tmp, name), "write", () => writeFileSync(join(tmp, name), data));
    put(INDEX_FILES.meta, `${JSON.stringify(w.meta, null, 2)}\n`);
    put(INDEX_FILES.items, w.items.map((item) => `${JSON.stringify(item)}\n`).join(""));
    put(INDEX_FILES.embeddings, npyFloat32(w.embeddings, w.meta.count, w.meta.dim));
    put(INDEX_FILES.thumbnails, Buffer.concat(w.thumbnails));
    if (w.approx) withPath(join(tmp, INDEX_FILES.approx), "write", () => w.approx!(join(tmp, INDEX_FILES.approx)));
  });
}

/** Reads thumbnails from an index's thumbnails.bin on demand (one open file). */
export class ThumbnailReader {
  private readonly fd: number;

  constructor(dir: string) {
    const file = join(resolve(dir), INDEX_FILES.thumbnails);
    this.fd = withPath(file, "open", () => openSync(file, "r"));
  }

  read(item: IndexItem): Buffer {
    const [offset, length] = item.thumb;
    const out = Buffer.alloc(length);
    readSync(this.fd, out, 0, length, offset);
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The index is of `run` (same recipe and weights), else an IndexError naming its index.json and both runs. */
export function checkSameRun(dir: string, meta: IndexMeta, run: RunIdentity): void {
  if (meta.run.recipeHash === run.recipeHash && meta.run.weightsSha256 === run.weightsSha256) return;
  throw new IndexError(
    `${join(resolve(dir), INDEX_FILES.meta)}: the index was embedded by another model (run ${meta.run.run}, ${meta.run.checkpoint} checkpoint, weights ${meta.run.weightsSha256.slice(0, 12)}…), ` +
      `not by ${run.run} (${run.checkpoint}, weights ${run.weightsSha256.slice(0, 12)}…); its embeddings do not compare with this model's queries: ` +
      `build an index with this run (sdfn index ${run.run} … --out NEW_INDEX), or use the run that built it`,
  );
}
