// Recipe format versions: a recipe written for an older version is migrated step by
// step to RECIPE_VERSION before validation. To change the format, bump RECIPE_VERSION
// and add `MIGRATIONS[old] = (tree) => newTree` for the previous version.
import type { Located } from "./located.js";
import { isMapping, problemAt } from "./located.js";
import type { Problem } from "./problems.js";
import { RECIPE_VERSION } from "./schema.js";

/** MIGRATIONS[v] turns a version-v tree into a version-(v+1) tree. */
const MIGRATIONS: Record<number, (tree: Record<string, unknown>) => Record<string, unknown>> = {};

/** Migrates `located.tree` (in place) to RECIPE_VERSION; a version it cannot read is a problem. */
export function migrate(located: Located): Problem[] {
  const tree = located.tree;
  if (!isMapping(tree) || typeof tree.version !== "number" || !Number.isInteger(tree.version)) return []; // the schema reports it
  let version = tree.version;
  if (version > RECIPE_VERSION) {
    return [problemAt(located.places, ["version"], `version ${version} is newer than this sdfn reads (${RECIPE_VERSION}); update sdfn`)];
  }
  let current = tree;
  while (version < RECIPE_VERSION) {
    const step = MIGRATIONS[version];
    if (!step) return [problemAt(located.places, ["version"], `version ${version} is not a recipe version (this sdfn reads ${RECIPE_VERSION})`)];
    current = step(current);
    version += 1;
    current.version = version;
  }
  located.tree = current;
  return [];
}
