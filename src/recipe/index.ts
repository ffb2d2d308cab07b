// Loading a recipe: YAML with positions → extends → --set overrides → version
// migration → plugins → validation (JSON Schema from the registry) → a typed,
// frozen Recipe with every default filled. Every problem is collected and thrown
// at once as a RecipeError.
import { createHash } from "node:crypto";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { createRegistry } from "../builtins.js";
import { loadPlugin, PluginError } from "../registry/plugins.js";
import type { Registry } from "../registry/registry.js";
import { loadChain, showFile, type PluginRef } from "./extends.js";
import { isMapping, placeAll, problemAt, type Located, type Path, type Where } from "./located.js";
import { migrate } from "./migrate.js";
import { applyOverrides } from "./overrides.js";
import { RecipeError, type Problem } from "./problems.js";
import type { Recipe } from "./schema.js";
import { toYaml } from "./render.js";
import { validateTree } from "./validate.js";

export { RecipeError, formatProblem, type Problem } from "./problems.js";
export { RECIPE_VERSION, recipeJsonSchema, type Recipe } from "./schema.js";
export { BACKENDS } from "./sections/backend.js";
export type { KindEntry, DatasetEntry } from "../registry/schema.js";

export interface LoadOptions {
  /** `key.path=value` overrides, applied in order after extends. */
  sets?: string[];
  /** Extra plugin files (relative to the working directory), as `--plugin`. */
  plugins?: string[];
  /** Run no plugin file (an untrusted recipe): names they would register are then unknown. */
  noPlugins?: boolean;
  /** The user's --allow-outside-root: the recipe's data paths may leave data.root (src/data/data-paths.ts). */
  allowOutsideRoot?: boolean;
  /** The registry to start from (default: every built-in); it is copied, never changed. */
  registry?: Registry;
}

export interface LoadedRecipe {
  /** Validated, every default filled, deeply frozen. */
  recipe: Recipe;
  /** Built-ins (or the given registry) plus the recipe's plugins. */
  registry: Registry;
  /** Absolute path of the recipe. */
  file: string;
  /** Its directory (plugins and extends resolve against it). */
  dir: string;
  /** sha256 (hex) of the canonical JSON of the resolved recipe. */
  hash: string;
  /** The resolved recipe as YAML (sdfn render; a run's recipe.resolved.yaml). */
  yaml: string;
  /** A problem at the recipe's place of `path` (its nearest written ancestor for a default), for checks made after loading. */
  locate(path: Path, message: string): Problem;
  /** The user's --allow-outside-root, carried to wherever the recipe's dataset is opened. */
  allowOutsideRoot: boolean;
}

/** Loads, resolves and validates the recipe at `file`. Throws RecipeError listing every problem. */
export async function loadRecipe(file: string, opts: LoadOptions = {}): Promise<LoadedRecipe> {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  const shown = showFile(abs);
  const problems: Problem[] = [];

  const chain = await loadChain(abs, problems);
  if (!chain) throw new RecipeError(problems);
  const located = chain.located;

  problems.push(...applyOverrides(located, opts.sets ?? []));
  problems.push(...resolvedTooLate(located));
  const unreadable = migrate(located);
  // A version this sdfn cannot read: its schema may differ, so nothing else is checked.
  if (unreadable.length) throw new RecipeError([...problems, ...unreadable]);
  if (isMapping(located.tree) && located.tree.name === undefined) {
    located.tree.name = path.basename(abs).replace(/\.ya?ml$/i, "");
  }

  // Plugins: the chain's (relative to the file naming them), then --plugin (relative to the working directory).
  const plugins: PluginRef[] = [...chain.plugins];
  for (const p of opts.plugins ?? []) {
    const ref = { path: path.resolve(p), where: { file: `--plugin ${p}`, value: { line: 0, col: 0 } } };
    if (!plugins.some((q) => q.path === ref.path)) plugins.push(ref);
  }
  // The resolved recipe lists its plugins relative to the recipe's directory.
  if (isMapping(located.tree)) {
    const listed = plugins.map((p) => toPosix(path.relative(dir, p.path))).map((p) => (p.startsWith(".") ? p : `./${p}`));
    located.tree.plugins = listed;
    plugins.forEach((p, i) => placeAll(located.places, ["plugins", i], listed[i], p.where));
  }

  const registry = (opts.registry ?? createRegistry()).copy();
  if (plugins.length > 0 && !opts.noPlugins) {
    // Plugins are code: they run only for a recipe that has no problem of its own. Checked first
    // without them, where only the names they register (acme/…) are unknown.
    const own = validateTree(located, registry, shown).problems.filter((p) => !p.unregistered);
    if (problems.length > 0 || own.length > 0) throw new RecipeError([...problems, ...own]);
    problems.push(...(await loadPlugins(registry, plugins)));
  }

  const { problems: invalid, recipe } = validateTree(located, registry, shown);
  problems.push(...(opts.noPlugins ? invalid.map((p) => (p.unregistered ? notRun(p, plugins) : p)) : invalid));
  if (problems.length > 0 || !recipe) throw new RecipeError(problems);

  return {
    recipe,
    registry,
    file: abs,
    dir,
    hash: recipeHash(recipe),
    yaml: toYaml(recipe, path.basename(abs)),
    locate: (at, message) => problemAt(located.places, at, message, "value", shown),
    allowOutsideRoot: opts.allowOutsideRoot ?? false,
  };
}

/** Imports each plugin into `registry`; a failure is a problem at its `plugins:` entry (and inside the plugin for a syntax error). */
async function loadPlugins(registry: Registry, plugins: readonly PluginRef[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const ref of plugins) {
    const shown = showFile(ref.path);
    try {
      await loadPlugin(registry, ref.path, shown);
    } catch (err) {
      if (!(err instanceof PluginError)) throw err;
      if (!err.place) {
        problems.push(problemAtWhere(ref.where, err.message));
        continue;
      }
      // Where the recipe names it, and where the compiler stopped.
      problems.push(problemAtWhere(ref.where, `plugin ${shown} failed to load: a syntax error at ${shown}:${err.place.line}:${err.place.col}`));
      problems.push({ file: shown, ...err.place, message: err.message });
    }
  }
  return problems;
}

/** A plugin's name when --no-plugins ran none: not a typo, so say why it is unknown. */
function notRun(p: Problem, plugins: readonly PluginRef[]): Problem {
  const files = plugins.map((ref) => showFile(ref.path)).join(", ");
  return {
    ...p,
    message: `"${p.unregistered}" comes from a plugin, and --no-plugins runs none${files ? ` (listed: ${files})` : ""}; drop --no-plugins to run them (plugins are code: only for a recipe you trust)`,
  };
}

/**
 * The registry a recipe would see: built-ins (or `base`) plus the given plugin
 * files (relative to the working directory). Throws RecipeError naming each `--plugin`.
 */
export async function loadRegistry(plugins: readonly string[] = [], base?: Registry): Promise<Registry> {
  const registry = (base ?? createRegistry()).copy();
  const problems: Problem[] = [];
  for (const p of plugins) {
    try {
      await loadPlugin(registry, path.resolve(p), showFile(path.resolve(p)));
    } catch (err) {
      if (!(err instanceof PluginError)) throw err;
      problems.push({ file: `--plugin ${p}`, line: 0, col: 0, message: err.message });
      if (err.place) problems.push({ file: showFile(path.resolve(p)), ...err.place, message: err.message });
    }
  }
  if (problems.length) throw new RecipeError(problems);
  return registry;
}

/** The params a declaration's build receives: the entry without its `type` (or `dataset`). */
export function paramsOf<T extends { type: string } | { dataset: string }>(entry: T): Record<string, unknown> {
  const { type: _t, dataset: _d, ...params } = entry as Record<string, unknown>;
  return params;
}

/** sha256 (hex) of a resolved recipe's canonical JSON: what a checkpoint records, and what a resume compares. */
export function recipeHash(recipe: unknown): string {
  return createHash("sha256").update(canonicalJson(recipe)).digest("hex");
}

/** The hash of a run's recipe.resolved.yaml text (every default written out, so no validation is needed); undefined when it does not parse. */
export function resolvedRecipeHash(yamlText: string): string | undefined {
  try {
    return recipeHash(parseYaml(yamlText));
  } catch {
    return undefined;
  }
}

/** JSON with keys sorted at every level: the same recipe always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    isMapping(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

/** `extends` and `plugins` are resolved before overrides: a `--set` of them would be ignored, so it is a problem. */
function resolvedTooLate(located: Located): Problem[] {
  const tree = located.tree;
  if (!isMapping(tree)) return [];
  const fixes: Record<string, string> = {
    extends: "extends cannot be overridden; write a recipe that extends this one instead",
    plugins: "plugins cannot be set with --set; use --plugin FILE",
  };
  return Object.keys(fixes)
    .filter((key) => key in tree)
    .map((key) => {
      delete tree[key];
      return problemAt(located.places, [key], fixes[key]!);
    });
}

function problemAtWhere(w: Where, message: string): Problem {
  return { file: w.file, line: w.value.line, col: w.value.col, message };
}

const toPosix = (p: string) => p.split(path.sep).join("/");
