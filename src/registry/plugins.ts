// Plugins: a .ts or .js file that adds declarations to a registry. The file exports
//
//   export function register(registry: PluginRegistry): void {
//     registry.register("module", gatedSum);   // a declaration from defineModule(...)
//   }
//
// Plugin names are namespaced ("acme/GatedSum"); a name already registered is an
// error, never an overwrite. See examples/plugins/gated-sum.ts.
import { pathToFileURL } from "node:url";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { KINDS, nameKey, PLUGIN_NAME, type Declaration, type Kind, type Registry } from "./registry.js";

/** What a plugin's `register` receives: registration only, by kind. */
export interface PluginRegistry {
  register(kind: Kind, declaration: Declaration<any, any, any>): void;
}

/** A plugin that cannot be loaded or registers something wrong; the message says how to fix it. */
export class PluginError extends Error {
  override name = "PluginError";
  /** A place inside the plugin file (a syntax error), when known; line/col 1-based. */
  place?: { line: number; col: number };
}

/**
 * Imports the plugin at `file` (absolute) and lets it register into `registry`.
 * `shown` names the file in messages. Throws PluginError.
 */
export async function loadPlugin(registry: Registry, file: string, shown: string): Promise<void> {
  if (!existsSync(file)) throw new PluginError(`plugin ${shown}: no such file (plugin paths are relative to the recipe that lists them; --plugin paths to the working directory)`);
  let mod: Record<string, unknown>;
  try {
    mod = await importPlugin(file);
  } catch (err) {
    throw loadFailure(err, file, shown);
  }
  const register = mod.register;
  if (typeof register !== "function") {
    throw new PluginError(
      `plugin ${shown} exports no register function; write \`export function register(registry) { registry.register("module", myModule) }\` (see examples/plugins/gated-sum.ts)`,
    );
  }
  const facade: PluginRegistry = {
    register(kind, declaration) {
      checkDeclaration(kind, declaration, shown);
      const owner = registry.sourceOf(kind, declaration.name);
      if (owner) {
        const by = owner === "built-in" ? "a built-in" : owner;
        throw new PluginError(`plugin ${shown}: ${kind} "${declaration.name}" is already registered by ${by}; rename one of them`);
      }
      registry.register(kind, declaration, `plugin ${shown}`);
    },
  };
  try {
    await register(facade);
  } catch (err) {
    if (err instanceof PluginError) throw err;
    throw new PluginError(`plugin ${shown}: register() failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The plugin's exports. Under a package.json without "type": "module" (a CommonJS project, npm
 * init's default; not a file outside any package) Node would load a .ts/.js plugin written with `export` as CommonJS and fail, so
 * tsx compiles it in a namespace of its own (tsImport), whatever the project's module type;
 * elsewhere it is an ordinary import (through the loader sdfn runs under: tsx, or vite in tests).
 */
async function importPlugin(file: string): Promise<Record<string, unknown>> {
  if (!commonJsScope(file) || !/\.(ts|js)$/.test(file)) return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const { tsImport } = await import("tsx/esm/api");
  const mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
  // Compiled as CommonJS, its exports may also sit under `default`.
  return typeof mod.register === "function" ? mod : ((mod.default as Record<string, unknown> | undefined) ?? mod);
}

/** Why importing a plugin failed, located in the plugin when the compiler says where. */
function loadFailure(err: unknown, file: string, shown: string): PluginError {
  const text = (err instanceof Error ? err.message : String(err)).replace(/\x1b\[[0-9;]*m/g, "");
  const syntax = syntaxError(text);
  if (syntax && path.resolve(syntax.file) === file) {
    const located = new PluginError(`plugin ${shown}: syntax error: ${syntax.message}`);
    located.place = { line: syntax.line, col: syntax.col };
    return located;
  }
  const why = text.split("\n")[0]!;
  const cjs = commonJsScope(file);
  const formatError = /require\(\) (of )?ES Module|ERR_REQUIRE_(ESM|ASYNC_MODULE)|Cannot use import statement outside a module|(exports|require) is not defined/;
  if (cjs !== undefined && /\.(ts|js)$/.test(file) && formatError.test(text)) {
    const scope = cjs ? `${cjs} has no "type": "module"` : `no package.json is above it`;
    return new PluginError(
      `plugin ${shown} failed to load (${why.split(". ")[0]}): ${scope}, so Node loads ${path.basename(file)} as CommonJS; ` +
        `${cjs ? `add "type": "module" to ${path.basename(cjs)}` : `add a package.json with "type": "module"`}, or rename the plugin to .mts`,
    );
  }
  const hint = file.endsWith(".ts") && /Unknown file extension/.test(why) ? " (run through bin/sdfn.js, which loads TypeScript)" : "";
  return new PluginError(`plugin ${shown} failed to load: ${why}${hint}`);
}

/** A compiler's syntax error: esbuild's (tsx: `FILE:L:C: ERROR: MESSAGE`, column 0-based) or oxc's (vite: `[CODE] MESSAGE … [ FILE:L:C ]`). */
function syntaxError(text: string): { file: string; line: number; col: number; message: string } | undefined {
  const esbuild = /^(.+?):(\d+):(\d+): ERROR: (.+)$/m.exec(text);
  if (esbuild) return { file: esbuild[1]!, line: Number(esbuild[2]), col: Number(esbuild[3]) + 1, message: esbuild[4]! };
  const oxc = /\[[A-Z_]+\] *(.+)\n[^[]*\[ (.+?):(\d+):(\d+) \]/.exec(text);
  if (oxc) return { file: oxc[2]!, line: Number(oxc[3]), col: Number(oxc[4]), message: oxc[1]!.trim() };
  return undefined;
}

/** The nearest package.json above `file` when it makes .ts/.js files CommonJS (no "type": "module"); "" when there is none; undefined for ESM. */
function commonJsScope(file: string): string | undefined {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, "utf8")) as { type?: string }).type === "module" ? undefined : pkg;
      } catch {
        return undefined;
      }
    }
    if (path.dirname(dir) === dir) return "";
  }
}

function checkDeclaration(kind: Kind, d: Declaration, shown: string): void {
  const fail = (why: string) => {
    throw new PluginError(`plugin ${shown}: ${why}`);
  };
  if (!KINDS.includes(kind)) fail(`unknown kind "${kind}"; kinds: ${KINDS.join(", ")}`);
  if (typeof d !== "object" || d === null || typeof d.name !== "string") fail(`register("${kind}", …) needs a declaration with a name`);
  if (!PLUGIN_NAME.test(d.name)) {
    fail(`"${d.name}" is not a namespaced name: plugin names look like "acme/GatedSum" (lowercase namespace, "/", name)`);
  }
  if (typeof d.build !== "function") fail(`${kind} "${d.name}" has no build function`);
  if (typeof d.doc !== "string" || !d.doc) fail(`${kind} "${d.name}" has no doc line`);
  const shape = (d.params as { shape?: Record<string, unknown> } | undefined)?.shape;
  if (!shape) fail(`${kind} "${d.name}": params must be a zod object (z.object({...}))`);
  if (kind === "loss" && shape && !("weight" in shape)) {
    fail(`loss "${d.name}" needs a \`weight\` parameter (its λ in the total): weight: z.number().min(0).default(1).describe(...)`);
  }
  const reserved = nameKey(kind);
  if (shape && reserved in shape) fail(`${kind} "${d.name}": a parameter may not be called "${reserved}" (it names the ${kind})`);
}
