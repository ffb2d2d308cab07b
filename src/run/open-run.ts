// Reopening a finished (or interrupted) run for `sdfn eval` and `sdfn query`:
// its resolved recipe, its vocabulary, the network with a checkpoint's weights.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { OpenDataset } from "../data/index.js";
import { loadVocabulary } from "../data/vocabulary.js";
import type { Network } from "../graph/compile.js";
import { loadRecipe, type LoadedRecipe } from "../recipe/index.js";
import { loadStoreTensors, readCheckpoint, type CheckpointMeta, type CheckpointTag } from "../train/checkpoint.js";

export interface OpenedRun {
  runDir: string;
  loaded: LoadedRecipe;
  dataset: OpenDataset;
  net: Network;
  meta: CheckpointMeta;
  checkpoint: string;
}

/** Loads RUN_DIR's recipe, data (with the run's vocabulary) and the `tag` checkpoint's weights. */
export async function openRun(
  dir: string,
  tag: CheckpointTag,
  /** Called with the loaded recipe before any tensor exists (choose the backend here). */
  before: (loaded: LoadedRecipe) => Promise<void> = async () => {},
  /** The recipe to load instead of RUN_DIR/recipe.resolved.yaml (a run whose plugins live beside its original recipe). */
  recipe?: string,
): Promise<OpenedRun> {
  const runDir = resolve(dir);
  const recipeFile = recipe ?? join(runDir, "recipe.resolved.yaml");
  if (!existsSync(recipeFile)) {
    throw new Error(recipe ? `${recipe}: no such recipe file` : `${dir}: no recipe.resolved.yaml; give a run directory written by \`sdfn build\``);
  }
  const ckpt = readCheckpoint(runDir, tag, false);
  const loaded = await loadRecipe(recipeFile);
  await before(loaded);
  const [{ openDataset }, { compileNetwork }] = await Promise.all([import("../data/index.js"), import("../graph/compile.js")]);
  const vocabulary = await loadVocabulary(join(runDir, "vocabulary.json"));
  const dataset = await openDataset(loaded.recipe, loaded.registry, { vocabulary });
  const net = compileNetwork(loaded.recipe, loaded.registry, { vocabulary, recipeDir: loaded.dir });
  try {
    // Loss parameters (e.g. the classification scale) are not part of the network: skip them.
    const weights = Object.fromEntries(Object.entries(ckpt.weights).filter(([k]) => net.store.variables.has(k)));
    loadStoreTensors(net.store, weights, ckpt.path);
  } catch (err) {
    net.dispose();
    throw err;
  }
  return { runDir, loaded, dataset, net, meta: ckpt.meta, checkpoint: ckpt.path };
}
