// Single-modality baselines on a shapes evaluation set, to show that neither the
// reference image nor the text alone finds the target, while both together do.
import type { EvalSet } from "../types.js";
import { applyEdit, parseText, resolveText, sceneKey, textSatisfied, type Scene, type World } from "./scene.js";

/** Mean over queries of [a positive ranks within the top k] given per-gallery scores (higher = better). */
function recallFromScores(set: EvalSet, k: number, scoresOf: (q: number) => Float64Array): number {
  let hits = 0;
  set.queries.forEach((query, q) => {
    const scores = scoresOf(q);
    for (const i of query.exclude) scores[i] = -Infinity;
    const best = Math.max(...query.positives.map((i) => scores[i]!));
    // Ties are broken against the positive (pessimistic but deterministic).
    let above = 0;
    for (let i = 0; i < scores.length; i++) if (scores[i]! >= best && !query.positives.includes(i)) above++;
    if (above < k) hits++;
  });
  return hits / set.queries.length;
}

/** Image only: rank the gallery by pixel distance to the reference. */
export function imageOnlyRecall(set: EvalSet, pixels: (id: string) => Uint8Array, k: number): number {
  const gallery = set.gallery.map(pixels);
  return recallFromScores(set, k, (q) => {
    const ref = pixels(set.queries[q]!.reference);
    return Float64Array.from(gallery, (g) => {
      let d = 0;
      for (let i = 0; i < g.length; i++) d += (g[i]! - ref[i]!) ** 2;
      return -d;
    });
  });
}

/**
 * Text only, an oracle on attributes: a gallery scene scores 1 when it fits what
 * the text says about the target (the object as changed, or its absence), else 0.
 * Ties are resolved uniformly at random in expectation: recall = min(1, k / tied).
 */
export function textOnlyRecall(set: EvalSet, world: World, scene: (id: string) => Scene, k: number): number {
  const gallery = set.gallery.map(scene);
  let total = 0;
  for (const query of set.queries) {
    const parsed = parseText(world, query.text);
    if (!parsed) throw new Error(`shapes: cannot parse "${query.text}"`);
    const fits = gallery.map((g, i) => !query.exclude.includes(i) && textSatisfied(parsed, g));
    if (!query.positives.some((i) => fits[i])) continue;
    total += Math.min(1, k / fits.filter(Boolean).length);
  }
  return total / set.queries.length;
}

/** Both together, symbolically: parse the text, apply it to the reference, find the exact scene. */
export function symbolicRecall(set: EvalSet, world: World, scene: (id: string) => Scene, k: number): number {
  const keys = set.gallery.map((id) => sceneKey(scene(id)));
  return recallFromScores(set, k, (q) => {
    const query = set.queries[q]!;
    const parsed = parseText(world, query.text);
    const edit = parsed && resolveText(parsed, scene(query.reference));
    const want = edit ? sceneKey(applyEdit(scene(query.reference), edit)) : "";
    return Float64Array.from(keys, (key) => (key === want ? 1 : 0));
  });
}
