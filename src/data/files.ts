// Finding a dataset's images on disk: by name under a folder tree, or by path. Symbolic links
// (how FashionIQ's category folders and Shoes' womens_* folders are often laid out) are followed;
// a link loop is a DataError naming it. Annotation files are read in annotations.ts.
import type { Dirent } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { DataError } from "./data-error.js";
import { resolveUnder } from "./data-paths.js";
import { decodeImage, decodeImageInto, IMAGE_EXTENSIONS } from "./images.js";
import type { ImageOptions } from "./params.js";
import type { ImageSource } from "./types.js";

/**
 * `rel`, an image path read from a list file (`where` = FILE:LINE), resolved inside `root`; one that
 * leaves it (`..`, an absolute path) would read files elsewhere on the machine, so it is an error
 * (unless the user allows it). The message does not quote the path: it is the file's content.
 */
export function insideRoot(root: string, rel: string, where: string, dataset: string, allow = false): string {
  const { path, inside } = resolveUnder(root, rel);
  if (!inside && !allow) {
    throw new DataError(
      `${dataset}: ${where}: the image path leaves data.root (${root}): it is absolute or climbs out with ".."; ` +
        `list files name images relative to data.root (or pass --allow-outside-root to read outside it)`,
    );
  }
  return path;
}

/** Non-empty trimmed lines. */
export const lines = (text: string): string[] =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);

/** A folder's entries; none when it does not exist. */
async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    if (code === "ELOOP") throw loopError(dir);
    throw new DataError(`cannot list the image folder ${dir} (${code ?? String(err)}); check its permissions`);
  }
}

const loopError = (path: string) =>
  new DataError(`symbolic link loop at ${path}: the link leads back to itself through other links; fix or remove it`);

/** What an entry is, following a symbolic link: "file", "dir", or "none" (a dangling link, a socket, …). */
async function kindOf(dir: string, e: Dirent): Promise<"file" | "dir" | "none"> {
  if (e.isFile()) return "file";
  if (e.isDirectory()) return "dir";
  if (!e.isSymbolicLink()) return "none";
  try {
    const s = await stat(join(dir, e.name));
    return s.isFile() ? "file" : s.isDirectory() ? "dir" : "none";
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") throw loopError(join(dir, e.name));
    return "none"; // dangling: the image it names counts as missing
  }
}

const isImage = (name: string) => IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());

/**
 * Image files under `dir` by file name (and by name without extension), descending
 * into the sub-folders `descend(name, depth)` accepts. The first one found wins.
 * Symbolic links to files and folders are followed; a folder reached twice (two links to
 * one folder) is read once, and a link back to a folder that contains it is a DataError.
 */
export async function indexImages(dir: string, descend: (name: string, depth: number) => boolean): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const seen = new Set<string>();
  const walk = async (folder: string, depth: number, ancestors: readonly string[]): Promise<void> => {
    const real = await realpath(folder).catch(() => folder);
    if (ancestors.includes(real)) {
      throw new DataError(`symbolic link loop at ${folder}: it leads back to ${real}, a folder that contains it; remove the link or point it elsewhere`);
    }
    if (seen.has(real)) return;
    seen.add(real);
    const list = await entries(folder);
    const kinds = await Promise.all(list.map((e) => kindOf(folder, e)));
    list.forEach((e, i) => {
      if (kinds[i] !== "file" || !isImage(e.name)) return;
      const file = join(folder, e.name);
      if (!out.has(e.name)) out.set(e.name, file);
      const stem = e.name.slice(0, -extname(e.name).length);
      if (!out.has(stem)) out.set(stem, file);
    });
    const subdirs = list.filter((e, i) => kinds[i] === "dir" && descend(e.name, depth)).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of subdirs) await walk(join(folder, e.name), depth + 1, [...ancestors, real]);
  };
  await walk(dir, 0, []);
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
      const all = await entries(dir);
      const kinds = await Promise.all(all.map((e) => kindOf(dir, e)));
      const names = new Set(all.filter((_, i) => kinds[i] === "file").map((e) => e.name));
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
