// Reading annotation files and finding images on disk, with errors that name the
// dataset, the file and what the folder should hold.
import { readdir, readFile } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from "node:path";
import { decodeImage, decodeImageInto, IMAGE_EXTENSIONS } from "./images.js";
import type { ImageOptions } from "./params.js";
import type { ImageSource } from "./types.js";

/** The contents of an annotation file; a missing file is a DataError-style message naming the expectation. */
export async function readText(file: string, dataset: string, expected: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${dataset}: cannot read ${file} (${code ?? String(err)}); ${expected}`);
  }
}

export async function readJson<T>(file: string, dataset: string, expected: string): Promise<T> {
  const text = await readText(file, dataset, expected);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${dataset}: ${file} is not valid JSON (${(err as Error).message}); ${expected}`);
  }
}

/**
 * `rel`, a path read from a list file (`where` = FILE:LINE), resolved inside `root`; one that
 * leaves it (`..`, an absolute path) would read files elsewhere on the machine, so it is an error.
 */
export function insideRoot(root: string, rel: string, where: string, dataset: string): string {
  const abs = resolve(root, rel);
  const back = relative(root, abs);
  if (isAbsolute(rel) || back === ".." || back.startsWith(`..${"/"}`) || isAbsolute(back)) {
    throw new Error(`${dataset}: ${where}: "${rel}" points outside data.root (${root}); list files name images relative to data.root, without ".."`);
  }
  return abs;
}

/** Non-empty trimmed lines. */
export const lines = (text: string): string[] =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);

async function entries(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") return [];
    throw err;
  }
}

const isImage = (name: string) => IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());

/**
 * Image files under `dir` by file name (and by name without extension), descending
 * into the sub-folders `descend(name, depth)` accepts. The first one found wins.
 */
export async function indexImages(
  dir: string,
  descend: (name: string, depth: number) => boolean,
  depth = 0,
  out = new Map<string, string>(),
): Promise<Map<string, string>> {
  const list = await entries(dir);
  for (const e of list) {
    if (e.isFile() && isImage(e.name)) {
      const file = join(dir, e.name);
      if (!out.has(e.name)) out.set(e.name, file);
      const stem = e.name.slice(0, -extname(e.name).length);
      if (!out.has(stem)) out.set(stem, file);
    }
  }
  const subdirs = list.filter((e) => e.isDirectory() && descend(e.name, depth)).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of subdirs) await indexImages(join(dir, e.name), descend, depth + 1, out);
  return out;
}

/** The subset of `files` that exist (one directory listing per distinct folder). */
export async function existingFiles(files: Iterable<string>): Promise<Set<string>> {
  const byDir = new Map<string, string[]>();
  for (const f of files) {
    const d = dirname(f);
    if (!byDir.has(d)) byDir.set(d, []);
    byDir.get(d)!.push(f);
  }
  const found = new Set<string>();
  await Promise.all(
    [...byDir].map(async ([dir, list]) => {
      const names = new Set((await entries(dir)).filter((e) => e.isFile()).map((e) => e.name));
      for (const f of list) if (names.has(basename(f))) found.add(f);
    }),
  );
  return found;
}

/** An ImageSource over files: id → path through `locate`, decoded with sharp. */
export function fileImages(locate: (id: string) => string | undefined, options: ImageOptions): ImageSource {
  const fileOf = (id: string) => {
    const file = locate(id);
    if (!file) throw new Error(`image "${id}" was not found (it was missing when the dataset was opened)`);
    return file;
  };
  return {
    path: locate,
    load: async (id, augment) => decodeImage(fileOf(id), options, augment),
    loadInto: async (id, augment, out, offset) => decodeImageInto(fileOf(id), options, augment, out, offset),
  };
}

/** Keeps the first occurrence of each item, in order. */
export const unique = <T>(items: Iterable<T>): T[] => [...new Set(items)];
