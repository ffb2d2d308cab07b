// The pretrained files a recipe's encoders name (ImageNet weights, GloVe): checked before a
// run directory is made — a missing one is a recipe problem at its key, naming the path looked
// at and the steps to obtain it — and the record (file, SHA-256) that meta.json, summary.json
// and the report keep of what each encoder started from.
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { Network } from "../graph/compile.js";
import { RecipeError, type LoadedRecipe } from "../recipe/index.js";
import type { PretrainedSource } from "../registry/kinds.js";

/** Per encoder, the file its weights started from, or null: random init (from scratch). */
export type PretrainedRecord = Record<"encoders.image" | "encoders.text", PretrainedSource | null>;

/** A pretrained file a recipe names, where it was looked for, and whether it is there. */
export interface PretrainedFileStatus {
  /** Its recipe key, e.g. encoders.image.weights. */
  key: string;
  /** Absolute path looked at. */
  file: string;
  found: boolean;
  bytes?: number;
  /** The steps that obtain it. */
  obtain: string;
  /** What a null path means instead (default: train from scratch). */
  instead?: string;
}

const ENCODERS = [
  ["image_encoder", "image"],
  ["text_encoder", "text"],
] as const;

/** Every pretrained file the recipe's encoders name, resolved against `cwd` (as data.root). */
export function pretrainedFiles(loaded: LoadedRecipe, cwd = process.cwd()): PretrainedFileStatus[] {
  const { recipe, registry } = loaded;
  return ENCODERS.flatMap(([kind, part]) => {
    const where = `encoders.${part}`;
    const { declaration, params } = registry.resolve(kind, recipe.encoders[part], where);
    return (declaration.pretrainedFiles?.(params) ?? []).map((f) => {
      const file = resolve(cwd, f.path);
      const stat = existsSync(file) ? statSync(file) : undefined;
      return { key: `${where}.${f.param}`, file, found: Boolean(stat?.isFile()), bytes: stat?.isFile() ? stat.size : undefined, obtain: f.obtain, instead: f.instead };
    });
  });
}

/**
 * Refuses a recipe whose pretrained files are missing (RecipeError, exit 2): each at its key's
 * place in the recipe, with the path looked at, the steps to obtain it and how to train from scratch instead.
 */
export function checkPretrainedFiles(loaded: LoadedRecipe, cwd = process.cwd()): void {
  const problems = pretrainedFiles(loaded, cwd)
    .filter((f) => !f.found)
    .map((f) =>
      loaded.locate(
        f.key.split("."),
        `${f.key}: no file at ${f.file}${existsSync(f.file) ? " (it is a directory)" : ""} (paths are relative to the working directory); ` +
          `${f.obtain}; or, ${f.instead ?? "to train from scratch on purpose"}, --set ${f.key}=null`,
      ),
    );
  if (problems.length) throw new RecipeError(problems);
}

/** What the network's encoders started from (a network compiled without pretrained files: nulls). */
export function pretrainedRecord(network: Network): PretrainedRecord {
  return { "encoders.image": network.image.pretrained ?? null, "encoders.text": network.text.pretrained ?? null };
}
