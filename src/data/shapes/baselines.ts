// Single-modality baselines on a shapes evaluation set, to show that neither the
// reference image nor the text alone finds the target, while both together do.
import type { EvalSet } from "../types.js";
import { applyEdit, parseText, resolveText, sceneKey, textSatisfied, type Scene, type World } from "./scene.js";

/** Gallery items ranked above query `q`'s best positive (ties against the positive), from scores (higher = better). */
function rivals(query: EvalSet["queries"][number], scores: Float64Array): number {
  const s = Float64Array.from(scores);
  for (const i of query.exclude) s[i] = -Infinity;
  const best = Math.max(...query.positives.map((i) => s[i]!));
  // Ties are broken against the positive (pessimistic but deterministic).
  let above = 0;
  for (let i = 0; i < s.length; i++) if (s[i]! >= best && !query.positives.includes(i)) above++;
  return above;
}

/** Per k: the mean over queries of [a positive ranks within the top k] given per-gallery scores. */
function recallsFromScores(set: EvalSet, ks: readonly number[], scoresOf: (q: number) => Float64Array): number[] {
  const above = set.queries.map((query, q) => rivals(query, scoresOf(q)));
  return ks.map((k) => above.filter((a) => a < k).length / set.queries.length);
}

const recallFromScores = (set: EvalSet, k: number, scoresOf: (q: number) => Float64Array): number =>
  recallsFromScores(set, [k], scoresOf)[0]!;

/** Image only, per k: rank the gallery by pixel distance to the reference (scores computed once per reference). */
export function imageOnlyRecalls(set: EvalSet, pixels: (id: string) => Uint8Array, ks: readonly number[]): number[] {
  const gallery = set.gallery.map(pixels);
  const byReference = new Map<string, Float64Array>();
  return recallsFromScores(set, ks, (q) => {
    const id = set.queries[q]!.reference;
    let scores = byReference.get(id);
    if (!scores) {
      const ref = pixels(id);
      scores = Float64Array.from(gallery, (g) => {
        let d = 0;
        for (let i = 0; i < g.length; i++) d += (g[i]! - ref[i]!) ** 2;
        return -d;
      });
      byReference.set(id, scores);
    }
    return scores;
  });
}

export const imageOnlyRecall = (set: EvalSet, pixels: (id: string) => Uint8Array, k: number): number =>
  imageOnlyRecalls(set, pixels, [k])[0]!;

/**
 * Text only, an oracle on attributes: a gallery scene scores 1 when it fits what
 * the text says about the target (the object as changed, or its absence), else 0.
 * Ties are resolved uniformly at random in expectation: recall = min(1, k / tied).
 */
export function textOnlyRecalls(set: EvalSet, world: World, scene: (id: string) => Scene, ks: readonly number[]): number[] {
  const gallery = set.gallery.map(scene);
  const totals = ks.map(() => 0);
  for (const query of set.queries) {
    const parsed = parseText(world, query.text);
    if (!parsed) throw new Error(`shapes: cannot parse "${query.text}"`);
    const fits = gallery.map((g, i) => !query.exclude.includes(i) && textSatisfied(parsed, g));
    if (!query.positives.some((i) => fits[i])) continue;
    const tied = fits.filter(Boolean).length;
    ks.forEach((k, j) => (totals[j]! += Math.min(1, k / tied)));
  }
  return totals.map((t) => t / set.queries.length);
}

export const textOnlyRecall = (set: EvalSet, world: World, scene: (id: string) => Scene, k: number): number =>
  textOnlyRecalls(set, world, scene, [k])[0]!;

/** The single-modality baselines of one set, in percent: {"image only": {"R@10": …}, "text only": {…}}. */
export function shapesBaselines(
  set: EvalSet,
  world: World,
  scene: (id: string) => Scene,
  pixels: (id: string) => Uint8Array,
  ks: readonly number[],
): Record<string, Record<string, number>> {
  const percent = (values: number[]) => Object.fromEntries(ks.map((k, j) => [`R@${k}`, 100 * values[j]!]));
  return {
    "image only": percent(imageOnlyRecalls(set, pixels, ks)),
    "text only": percent(textOnlyRecalls(set, world, scene, ks)),
  };
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
