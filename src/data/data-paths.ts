// The paths a dataset reads stay under data.root. A recipe's path parameters (captions_file,
// train_list, labels_dir, …) and the image paths inside list files are resolved against it, and
// one that leaves it (an absolute path elsewhere, a ".." escape) is refused unless the user
// passes --allow-outside-root: a recipe from someone else must not read any file on the machine.
// The check is on the path as written; symbolic links inside data.root are the user's own layout
// and are followed (src/data/files.ts).
import { isAbsolute, relative, resolve, sep } from "node:path";
import { z } from "zod";
import { DataError } from "./data-error.js";

/** The command-line flag that lifts the confinement (every command that opens a dataset takes it). */
export const ALLOW_OUTSIDE_ROOT_FLAG = "--allow-outside-root";

// The params schemas that name a path under data.root (the declarations make them with dataPathParam).
const DATA_PATHS = new WeakSet<z.ZodType>();

/** A dataset parameter naming a file or folder relative to data.root (confined to it). */
export function dataPathParam(fallback: string, doc: string) {
  const schema = z.string().default(fallback).describe(doc);
  DATA_PATHS.add(schema);
  return schema;
}

/** The keys of a dataset's params schema made with dataPathParam. */
export function dataPathKeys(params: z.ZodType): string[] {
  const shape = (params as { shape?: Record<string, z.ZodType> }).shape ?? {};
  return Object.keys(shape).filter((key) => DATA_PATHS.has(shape[key]!));
}

/** `rel` resolved against `root`; whether it stays inside (root itself counts). */
export function resolveUnder(root: string, rel: string): { path: string; inside: boolean } {
  const path = resolve(root, rel);
  const back = relative(root, path);
  const inside = back === "" || (back !== ".." && !back.startsWith(`..${sep}`) && !isAbsolute(back));
  return { path, inside };
}

/**
 * Checks every path parameter of a dataset's `params` against data.root (`root`, absolute).
 * Throws one DataError naming each offending `data.KEY`, unless `allow`.
 */
export function checkDataPaths(params: Record<string, unknown>, keys: readonly string[], root: string, allow: boolean): void {
  if (allow) return;
  const outside = keys.filter((key) => typeof params[key] === "string" && !resolveUnder(root, params[key] as string).inside);
  if (outside.length === 0) return;
  const lines = outside.map((key) => `\n  data.${key}: ${JSON.stringify(params[key])} resolves to ${resolveUnder(root, params[key] as string).path}`);
  throw new DataError(
    `${outside.length === 1 ? "a data path leaves" : `${outside.length} data paths leave`} data.root (${root}):${lines.join("")}\n` +
      `Data paths are relative to data.root, without ".." or an absolute path elsewhere; move the file under data.root, ` +
      `change data.root, or pass ${ALLOW_OUTSIDE_ROOT_FLAG} to read outside it.`,
  );
}
