// Checks across sections that neither JSON Schema nor one declaration's params can express,
// run on the validated recipe so each problem still has its place (e.g. attention heads
// that do not divide the fusion width set in encoders.image.dim).
import type { Registry } from "../registry/registry.js";
import type { Path } from "./located.js";
import type { Problem } from "./problems.js";
import type { Recipe } from "./schema.js";

type At = (path: Path, message: string) => Problem;

/** Every cross-section problem of `recipe`. */
export function crossChecks(recipe: Recipe, at: At, registry: Registry): Problem[] {
  return [...headsDivideWidth(recipe, at), ...encoderShapes(recipe, at), ...recallWithinBound(recipe, at, registry)];
}

/** One evaluation gallery's name and size (images), or the bound the dataset's params set on every gallery. */
export interface GallerySize {
  name: string;
  size: number;
  /** true: `size` is an upper bound from the params (no gallery was built). */
  bound?: boolean;
}

/**
 * Recall@K counts a query as found when its target ranks in the top K: with K at or beyond
 * the gallery's size every query is found (a silent 100 %), so each such K is a problem at its
 * `evaluation.recall_at` entry. Shared by validation (bounds from params) and opening a dataset.
 */
export function recallBeyondGallery(ks: readonly number[], galleries: readonly GallerySize[], at: At): Problem[] {
  const smallest = galleries.reduce<GallerySize | undefined>((a, g) => (a && a.size <= g.size ? a : g), undefined);
  if (!smallest) return [];
  const holds = smallest.bound ? `holds at most ${smallest.size}` : `holds ${smallest.size}`;
  return ks.flatMap((k, i) =>
    k < smallest.size
      ? []
      : [
          at(
            ["evaluation", "recall_at", i],
            `evaluation.recall_at[${i}]: R@${k} is not below the gallery size: the evaluation gallery "${smallest.name}" ${holds} images, ` +
              `so every query would count as found (100 %); use K < ${smallest.size}, or enlarge the gallery`,
          ),
        ],
  );
}

/** A dataset whose params fix its gallery size (shapes: groups × references × edits) is checked without building it. */
function recallWithinBound(recipe: Recipe, at: At, registry: Registry): Problem[] {
  const { declaration, params } = registry.resolve("dataset", recipe.data, "data");
  const bound = declaration.galleryBound?.(params);
  if (bound === undefined) return [];
  return recallBeyondGallery(recipe.evaluation.recall_at, [{ name: recipe.data.dataset, size: bound, bound: true }], at);
}

/**
 * CLIP's towers split their attention width into `heads` (a transformer's `width`; a ResNet's last
 * map, `width`·32 channels, when `layers` lists its stages); a ViT's `patch` tiles its
 * `image_resolution`, which the positional embedding fixes: data.image_size must equal it.
 */
function encoderShapes(recipe: Recipe, at: At): Problem[] {
  const problems: Problem[] = [];
  for (const part of ["image", "text"] as const) {
    const e = recipe.encoders[part] as { type: string; width?: unknown; heads?: unknown; layers?: unknown; patch?: unknown; image_resolution?: unknown };
    const key = `encoders.${part}`;
    if (typeof e.width === "number" && typeof e.heads === "number") {
      const channels = Array.isArray(e.layers) ? e.width * 32 : e.width;
      const what = Array.isArray(e.layers) ? `the ${channels} channels of the last map (32 × ${key}.width)` : `the width ${channels} (${key}.width)`;
      if (channels % e.heads !== 0) problems.push(at(["encoders", part, "heads"], `${key}.heads: ${e.heads} heads do not divide ${what}; use a divisor of ${channels}`));
    }
    if (part !== "image" || typeof e.image_resolution !== "number") continue;
    if (typeof e.patch === "number" && e.image_resolution % e.patch !== 0) {
      problems.push(at(["encoders", part, "patch"], `${key}.patch: ${e.patch} px patches do not tile ${key}.image_resolution ${e.image_resolution}; use a divisor of it`));
    }
    const side = (recipe.data as { image_size?: unknown }).image_size;
    if (typeof side === "number" && side !== e.image_resolution) {
      problems.push(
        at(["data", "image_size"], `data.image_size: ${side} px, but ${key} (${e.type}) has positional embeddings for ${e.image_resolution} px images (${key}.image_resolution); set data.image_size: ${e.image_resolution}`),
      );
    }
  }
  return problems;
}

/** A module with `heads` splits the width d (encoders.image.dim) into equal heads. */
function headsDivideWidth(recipe: Recipe, at: At): Problem[] {
  const dim = (recipe.encoders.image as { dim?: unknown }).dim;
  if (typeof dim !== "number") return [];
  return recipe.fusion.modules.flatMap((m, i) => {
    const heads = (m as { heads?: unknown }).heads;
    if (typeof heads !== "number" || heads <= 0 || dim % heads === 0) return [];
    const divisors = Array.from({ length: Math.min(dim, 64) }, (_, k) => k + 1).filter((k) => dim % k === 0);
    return [
      at(
        ["fusion", "modules", i, "heads"],
        `fusion.modules[${i}].heads: ${heads} heads do not divide the fusion width d = ${dim} (encoders.image.dim); use one of ${divisors.join(", ")}, or change the width`,
      ),
    ];
  });
}
