// A recipe tree (plain JSON-like values) together with where each value came from:
// a file position, or a command-line argument. Merging (extends) and overrides
// keep the places in step with the values, so every later error can point back.
import type { Problem } from "./problems.js";

export type Path = readonly (string | number)[];
export interface Pos {
  line: number;
  col: number;
}
/** The origin of one value: its file (or `--set …` argument), the value's position and its key's. */
export interface Where {
  file: string;
  value: Pos;
  key?: Pos;
}
export interface Located {
  tree: unknown;
  /** Place of every value, by pathKey(path). */
  places: Map<string, Where>;
}

export const NOWHERE: Pos = { line: 0, col: 0 };
const SEP = "\u0000";

export const pathKey = (path: Path): string => path.join(SEP);

/** `fusion.modules[2].heads`, or "the recipe" for the root. */
export function showPath(path: Path): string {
  if (path.length === 0) return "the recipe";
  return path.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

/**
 * Keys that name JavaScript's object machinery, not recipe values: assigning `__proto__` swaps an
 * object's prototype (so `training: {__proto__: {epochs: 9}}` would change values behind validation),
 * and `constructor`/`prototype` shadow it. No registered thing has such a parameter, so they are
 * refused where the recipe is read (YAML and --set), with the place.
 */
export const PROTOTYPE_KEYS: readonly string[] = ["__proto__", "constructor", "prototype"];

export const prototypeKeyMessage = (key: string): string =>
  `"${key}" is not allowed as a key: it names JavaScript's object prototype machinery, not a recipe value; remove it`;

/** The first prototype key at any depth of a parsed value (a --set value), or undefined. */
export function findPrototypeKey(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    for (const v of value) {
      const found = findPrototypeKey(v);
      if (found) return found;
    }
  } else if (isMapping(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (PROTOTYPE_KEYS.includes(k)) return k;
      const found = findPrototypeKey(v);
      if (found) return found;
    }
  }
  return undefined;
}

export const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The place of `path`, or of its nearest ancestor that has one. */
export function whereOf(places: Map<string, Where>, path: Path): Where | undefined {
  for (let n = path.length; n >= 0; n--) {
    const w = places.get(pathKey(path.slice(0, n)));
    if (w) return w;
  }
  return undefined;
}

/** A problem at the key (`at: "key"`) or the value of `path`. */
export function problemAt(
  places: Map<string, Where>,
  path: Path,
  message: string,
  at: "key" | "value" = "value",
  fallbackFile = "recipe",
): Problem {
  const own = places.get(pathKey(path));
  const w = own ?? whereOf(places, path);
  if (!w) return { file: fallbackFile, line: 0, col: 0, message };
  // A missing path points at its nearest ancestor's key (the mapping it should be in).
  const pos = own ? (at === "key" && w.key ? w.key : w.value) : (w.key ?? w.value);
  return { file: w.file, line: pos.line, col: pos.col, message };
}

/** Removes the places of `path` and everything under it. */
export function dropPlaces(places: Map<string, Where>, path: Path): void {
  const p = pathKey(path);
  for (const k of [...places.keys()]) {
    if (path.length === 0 || k === p || k.startsWith(p + SEP)) places.delete(k);
  }
}

/** Copies the places of `path` and everything under it from `from` into `into`. */
export function copyPlaces(from: Map<string, Where>, into: Map<string, Where>, path: Path): void {
  const p = pathKey(path);
  for (const [k, w] of from) {
    if (path.length === 0 || k === p || k.startsWith(p + SEP)) into.set(k, w);
  }
}

/** Sets `where` as the place of `path` and of every value under `value`. */
export function placeAll(places: Map<string, Where>, path: Path, value: unknown, where: Where): void {
  places.set(pathKey(path), where);
  if (Array.isArray(value)) value.forEach((v, i) => placeAll(places, [...path, i], v, where));
  else if (isMapping(value)) for (const [k, v] of Object.entries(value)) placeAll(places, [...path, k], v, where);
}

/** Keys whose change swaps the kind of thing a mapping is (so its other keys no longer apply). */
const DISCRIMINATORS = ["type", "dataset"];

/**
 * Deep merge of `over` onto `base`: mappings merge key by key, anything else
 * (lists included) is replaced. A mapping whose `type` (or `dataset`) changes is
 * replaced whole: the base's parameters belong to the other type.
 */
export function merge(base: Located, over: Located): Located {
  const places = new Map(base.places);
  const mergeAt = (path: (string | number)[], a: unknown, b: unknown): unknown => {
    const swapped = isMapping(a) && isMapping(b) && DISCRIMINATORS.some((d) => d in a && d in b && a[d] !== b[d]);
    if (isMapping(a) && isMapping(b) && !swapped) {
      const own = over.places.get(pathKey(path));
      if (own) places.set(pathKey(path), own);
      const out: Record<string, unknown> = { ...a };
      for (const [k, v] of Object.entries(b)) out[k] = mergeAt([...path, k], a[k], v);
      return out;
    }
    dropPlaces(places, path);
    copyPlaces(over.places, places, path);
    return b;
  };
  return { tree: mergeAt([], base.tree, over.tree), places };
}
