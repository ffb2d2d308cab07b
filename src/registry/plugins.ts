// Plugins: a .ts or .js file that adds declarations to a registry. The file exports
//
//   export function register(registry: PluginRegistry): void {
//     registry.register("module", gatedSum);   // a declaration from defineModule(...)
//   }
//
// Plugin names are namespaced ("acme/GatedSum"); a name already registered is an
// error, never an overwrite. See examples/plugins/gated-sum.ts.
import { pathToFileURL } from "node:url";
import { existsSync } from "node:fs";
import { KINDS, nameKey, PLUGIN_NAME, type Declaration, type Kind, type Registry } from "./registry.js";

/** What a plugin's `register` receives: registration only, by kind. */
export interface PluginRegistry {
  register(kind: Kind, declaration: Declaration<any, any, any>): void;
}

/** A plugin that cannot be loaded or registers something wrong; the message says how to fix it. */
export class PluginError extends Error {
  override name = "PluginError";
}

/**
 * Imports the plugin at `file` (absolute) and lets it register into `registry`.
 * `shown` names the file in messages. Throws PluginError.
 */
export async function loadPlugin(registry: Registry, file: string, shown: string): Promise<void> {
  if (!existsSync(file)) throw new PluginError(`plugin ${shown}: no such file (plugin paths are relative to the recipe that lists them; --plugin paths to the working directory)`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    const hint = file.endsWith(".ts") && /Unknown file extension/.test(String(why)) ? " (run through bin/sdfn.js, which loads TypeScript)" : "";
    throw new PluginError(`plugin ${shown} failed to load: ${why}${hint}`);
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
