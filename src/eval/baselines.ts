// Reference recalls to read a model's recall against: chance (a random ranking) for
// every dataset, and the dataset's own single-modality baselines where it has them
// (shapes: image only, text only). Named like the model's metrics ("shapes/R@10",
// "avg/R@10"), computed once per run and cached by the caller.
import type { Baselines, EvalQuery, EvalSet } from "../data/types.js";

/** Baseline name → metric name ("<set>/R@K", "avg/R@K") → percent. */
export type ReferenceRecalls = Record<string, Record<string, number>>;

/** Expected [a positive within the top k] of one query under a uniformly random ranking. */
export function chanceHit(query: EvalQuery, gallerySize: number, k: number): number {
  const candidates = gallerySize - query.exclude.filter((i) => !query.positives.includes(i)).length;
  const positives = query.positives.length;
  // 1 − P(all k drawn without replacement miss every positive).
  let miss = 1;
  for (let i = 0; i < k && miss > 0; i++) miss *= Math.max(0, candidates - positives - i) / (candidates - i);
  return 1 - miss;
}

/** Chance recall of a set per K, in percent. */
export function chanceRecall(set: EvalSet, ks: readonly number[]): Record<string, number> {
  const mean = (k: number) => set.queries.reduce((sum, q) => sum + chanceHit(q, set.gallery.length, k), 0) / set.queries.length;
  return Object.fromEntries(ks.map((k) => [`R@${k}`, 100 * mean(k)]));
}

/** Every baseline on every set, plus the average over sets ("avg/R@K") like the model's metrics. */
export function referenceRecalls(data: { evalSets: readonly EvalSet[]; baselines?: Baselines }, ks: readonly number[]): ReferenceRecalls {
  const out: ReferenceRecalls = {};
  for (const set of data.evalSets) {
    const perSet = { ...(data.baselines?.(set, ks) ?? {}), chance: chanceRecall(set, ks) };
    for (const [name, recall] of Object.entries(perSet)) {
      out[name] ??= {};
      for (const [key, value] of Object.entries(recall)) out[name]![`${set.name}/${key}`] = value;
    }
  }
  for (const metrics of Object.values(out)) {
    for (const k of ks) {
      const values = data.evalSets.map((s) => metrics[`${s.name}/R@${k}`]).filter((v): v is number => v !== undefined);
      if (values.length === data.evalSets.length) metrics[`avg/R@${k}`] = values.reduce((a, b) => a + b, 0) / values.length;
    }
  }
  return out;
}
