// Recipe format versions: a recipe written for an older version is migrated step by
// step to RECIPE_VERSION before validation. To change the format, bump RECIPE_VERSION
// and add `MIGRATIONS[old] = (tree) => newTree` for the previous version.
import type { Located } from "./located.js";
import { isMapping, pathKey, problemAt } from "./located.js";
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

/** Keys renamed within version 1, applied to each file as it is read (before extends merges them). */
export function renameOldKeys(located: Located): void {
  renameMsrArchitecture(located);
  renameReversedCaptions(located);
}

/**
 * msr's `architecture: attention | mlp` became `pool: attention | mean` within version 1, when
 * `shared` got the same `pool` (docs/model.md): older recipes and run directories still load.
 * Applied to each file as it is read (before extends merges them), the key renamed where it
 * stood (its place kept for errors); a router of another type keeps its keys.
 */
export function renameMsrArchitecture(located: Located): void {
  const fusion = isMapping(located.tree) ? located.tree.fusion : undefined;
  if (!isMapping(fusion)) return;
  const router = fusion.router;
  if (!isMapping(router) || (router.type !== undefined && router.type !== "msr") || !("architecture" in router) || "pool" in router) return;
  const { architecture, ...rest } = router;
  fusion.router = { ...rest, pool: architecture === "mlp" ? "mean" : architecture };
  const [from, to] = [pathKey(["fusion", "router", "architecture"]), pathKey(["fusion", "router", "pool"])];
  const where = located.places.get(from);
  located.places.delete(from);
  if (where) located.places.set(to, where);
}

/**
 * FashionIQ's `reversed_captions: none | train | train_and_eval` became `query_form` (and
 * `train_form`) within version 1, when the peers' query forms became a choice (docs/datasets.md):
 * none was one joined text per pair, train added the reversed order to training, train_and_eval
 * to evaluation too. Older recipes and run directories keep their meaning; its place is kept for errors.
 */
export function renameReversedCaptions(located: Located): void {
  const data = isMapping(located.tree) ? located.tree.data : undefined;
  if (!isMapping(data) || (data.dataset !== undefined && data.dataset !== "fashioniq") || !("reversed_captions" in data) || "query_form" in data) return;
  const { reversed_captions: reversed, ...rest } = data;
  const forms: Record<string, Record<string, string>> = {
    none: { query_form: "joined" },
    train: { query_form: "joined", train_form: "both_orders" },
    train_and_eval: { query_form: "both_orders" },
  };
  // an unknown value stays under the new key, where validation reports it
  (located.tree as Record<string, unknown>).data = { ...rest, ...(typeof reversed === "string" && forms[reversed] ? forms[reversed] : { query_form: reversed }) };
  const from = pathKey(["data", "reversed_captions"]);
  const where = located.places.get(from);
  located.places.delete(from);
  if (where) located.places.set(pathKey(["data", "query_form"]), where);
}
