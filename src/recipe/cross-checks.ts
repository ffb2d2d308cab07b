// Checks across sections that neither JSON Schema nor one declaration's params can express,
// run on the validated recipe so each problem still has its place (e.g. attention heads
// that do not divide the fusion width set in encoders.image.dim).
import type { Path } from "./located.js";
import type { Problem } from "./problems.js";
import type { Recipe } from "./schema.js";

type At = (path: Path, message: string) => Problem;

/** Every cross-section problem of `recipe`. */
export function crossChecks(recipe: Recipe, at: At): Problem[] {
  return [...headsDivideWidth(recipe, at)];
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
