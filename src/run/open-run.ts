// Reopening a finished (or interrupted) run for `sdfn eval` and `sdfn query`:
// its resolved recipe, its vocabulary, and a session whose network holds a checkpoint's weights.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { loadVocabulary } from "../data/vocabulary.js";
import type { OpenDataset } from "../data/index.js";
import type { Network } from "../graph/compile.js";
import { loadRecipe, type LoadedRecipe, type LoadOptions } from "../recipe/index.js";
import { readCheckpoint, type CheckpointMeta, type CheckpointTag } from "./checkpoint.js";
import { RunDir, RunDirError } from "./run-dir.js";
import { openSession, type Session } from "./session.js";

export interface OpenedRun {
  runDir: string;
  loaded: LoadedRecipe;
  session: Session;
  dataset: OpenDataset;
  net: Network;
  meta: CheckpointMeta;
  checkpoint: string;
  /** Frees the session's tensors. */
  dispose(): void;
}

/** Loads RUN_DIR's recipe, data (with the run's vocabulary) and the `tag` checkpoint's weights. */
export async function openRun(
  dir: string,
  tag: CheckpointTag,
  /** Called with the loaded recipe before any tensor exists (choose the backend here). */
  before: (loaded: LoadedRecipe) => Promise<void> = async () => {},
  /** The recipe to load instead of RUN_DIR/recipe.resolved.yaml (a run whose plugins live beside its original recipe). */
  recipe?: string,
  /** The user's --no-plugins and --allow-outside-root. */
  load: Pick<LoadOptions, "noPlugins" | "allowOutsideRoot"> = {},
): Promise<OpenedRun> {
  const run = new RunDir(dir);
  const recipeFile = recipe ?? run.recipe;
  if (!existsSync(recipeFile)) {
    throw new RunDirError(recipe ? `${resolve(recipe)}: no such recipe file` : `${run.path}: no recipe.resolved.yaml; give a run directory written by \`sdfn build\``);
  }
  const ckpt = readCheckpoint(run.path, tag, false);
  const loaded = await loadRecipe(recipeFile, load);
  await before(loaded);
  const vocabulary = await loadVocabulary(run.vocabulary);
  const session = await openSession(loaded, { vocabulary, checkpoint: ckpt });
  return {
    runDir: run.path,
    loaded,
    session,
    dataset: session.dataset,
    net: session.network,
    meta: ckpt.meta,
    checkpoint: ckpt.path,
    dispose: () => session.dispose(),
  };
}
