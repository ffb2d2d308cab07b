// The memory check of `sdfn validate`, `build` and `sweep`: a recipe whose training would not fit
// (src/graph/estimate.ts) is a recipe problem at the key to change, before anything allocates.
import type { Problem } from "../recipe/problems.js";
import type { LoadedRecipe } from "../recipe/index.js";

/** The problem of a recipe too large for its memory budget, or undefined (it fits, or a plugin's part cannot be estimated). */
export async function memoryProblem(loaded: LoadedRecipe): Promise<Problem | undefined> {
  const { checkMemory } = await import("../graph/estimate.js");
  let check;
  try {
    check = checkMemory(loaded.recipe, loaded.registry);
  } catch {
    return undefined; // a declaration that cannot be built without tensors (a plugin's): not estimated
  }
  return check.over ? loaded.locate(check.over.path, check.over.message) : undefined;
}
