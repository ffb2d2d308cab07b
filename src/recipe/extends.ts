// `extends: ./base.yaml` (or a list): the bases load first (paths relative to the
// file that names them), then the file merges over them (deep merge, lists
// replaced). `plugins:` lists are concatenated along the chain instead, each path
// resolved against the file that names it; `name` is not inherited. Cycles and
// missing files are problems.
import path from "node:path";
import type { Located, Where } from "./located.js";
import { dropPlaces, isMapping, merge, pathKey, problemAt } from "./located.js";
import type { Problem } from "./problems.js";
import { renameOldKeys } from "./migrate.js";
import { readYamlFile } from "./yaml-source.js";

/** A plugin file named in a recipe (or on the command line), resolved to an absolute path. */
export interface PluginRef {
  path: string;
  /** Where it was named: its list entry, or `--plugin FILE`. */
  where: Where;
}

export interface ResolvedChain {
  /** The merged tree, without `extends` and `plugins`. */
  located: Located;
  plugins: PluginRef[];
}

/** Shows an absolute path as problems name it: relative to the working directory when inside it. */
export function showFile(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : abs;
}

/**
 * Loads `abs` and everything it extends. Returns undefined when a file of the
 * chain cannot be read or parsed (its problems are in `problems`).
 */
export async function loadChain(abs: string, problems: Problem[], chain: string[] = []): Promise<ResolvedChain | undefined> {
  const parsed = await readYamlFile(abs, showFile(abs));
  problems.push(...parsed.problems);
  if (!parsed.located) return undefined;
  const own = parsed.located;
  renameOldKeys(own);
  const tree = own.tree as Record<string, unknown>;
  const dir = path.dirname(abs);

  const plugins: PluginRef[] = [];
  let base: Located | undefined;
  let broken = false;

  const bases = listOfPaths(own, "extends", problems);
  // Without its bases the recipe would only show their keys as missing.
  if (!bases) return undefined;
  for (const ref of bases) {
    const target = path.resolve(dir, ref.value);
    const where = [...chain, abs];
    if (where.includes(target)) {
      const cycle = [...where.slice(where.indexOf(target)), target].map((f) => path.basename(f)).join(" → ");
      problems.push(problemAt(own.places, ref.path, `extends cycle: ${cycle}; a recipe cannot extend itself`));
      broken = true;
      continue;
    }
    if (!/\.(ya?ml|json)$/i.test(target)) {
      // An image, a plugin or a README: parsing it would only report its bytes as YAML syntax, somewhere inside it.
      problems.push(problemAt(own.places, ref.path, `extends: "${ref.value}" is not a recipe: a base is a .yaml or .yml file (plugins go under plugins:)`));
      broken = true;
      continue;
    }
    const nested: Problem[] = [];
    const loaded = await loadChain(target, nested, where);
    if (!loaded) {
      // A missing base is reported at the `extends` entry; problems inside the base stay its own.
      const shown = showFile(target);
      for (const p of nested) {
        if (p.file === shown && p.line === 0) {
          const rel = showFile(dir) || ".";
          problems.push(problemAt(own.places, ref.path, `extends: cannot read "${ref.value}" (${p.message.replace("cannot read the recipe: ", "")}; paths are relative to ${rel})`));
        } else if (p.file === shown && isUndecodable(p)) {
          problems.push(problemAt(own.places, ref.path, `extends: "${ref.value}" is not a YAML recipe: ${p.message} (${p.line}:${p.col} there)`));
        } else problems.push(p);
      }
      broken = true;
      continue;
    }
    plugins.push(...loaded.plugins);
    base = base ? merge(base, loaded.located) : loaded.located;
  }
  if (broken) return undefined;

  for (const ref of listOfPaths(own, "plugins", problems) ?? []) {
    plugins.push({ path: path.resolve(dir, ref.value), where: own.places.get(pathKey(ref.path))! });
  }
  delete tree.extends;
  delete tree.plugins;
  dropPlaces(own.places, ["extends"]);
  dropPlaces(own.places, ["plugins"]);

  // A recipe's name is its own (or its file name): a base's name does not carry over.
  if (base && isMapping(base.tree)) {
    delete base.tree.name;
    dropPlaces(base.places, ["name"]);
  }
  const located = base ? merge(base, own) : own;
  const unique = plugins.filter((p, i) => plugins.findIndex((q) => q.path === p.path) === i);
  return { located, plugins: unique };
}

/** A base that is not UTF-8 text at all (text-source.ts): named at the `extends:` entry, not inside its bytes. */
const isUndecodable = (p: Problem) => /^(the file is |a zero byte|not UTF-8|this line is )/.test(p.message);

/** `key: path` or `key: [paths]` of a file's own tree, as (value, path) pairs; a wrong shape is a problem (undefined). */
function listOfPaths(own: Located, key: string, problems: Problem[]): { value: string; path: (string | number)[] }[] | undefined {
  const tree = own.tree;
  if (!isMapping(tree) || !(key in tree)) return [];
  const value = tree[key];
  if (value === null) return [];
  if (typeof value === "string") return [{ value, path: [key] }];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    return value.map((v, i) => ({ value: v as string, path: [key, i] }));
  }
  const bad = Array.isArray(value) ? value.findIndex((v) => typeof v !== "string") : -1;
  problems.push(
    problemAt(own.places, bad >= 0 ? [key, bad] : [key], `${key}: expected a file path or a list of file paths (strings), relative to this recipe`),
  );
  return undefined;
}
