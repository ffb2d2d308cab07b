// The model's recall next to its references (chance, single-modality baselines),
// one line for the final line, the plain log and the report:
// "R@10 61 · image only 27 · text only 30 · chance 1".
import type { ReferenceRecalls } from "../eval/baselines.js";

/**
 * The model's recall next to the references at one K (R@10 when measured, else the
 * first K): "R@10 61 · image only 27 · text only 30 · chance 1"; undefined without references.
 */
export function comparisonLine(metrics: Record<string, number>, baselines: ReferenceRecalls | undefined): string | undefined {
  const keys = Object.keys(metrics).filter((k) => /^avg\/R@\d+$/.test(k));
  const key = keys.includes("avg/R@10") ? "avg/R@10" : keys[0];
  if (!baselines || key === undefined) return undefined;
  const references = Object.entries(baselines)
    .filter(([, recall]) => recall[key] !== undefined)
    .map(([name, recall]) => `${name} ${roundPercent(recall[key]!)}`);
  return [`${key.slice(4)} ${roundPercent(metrics[key]!)}`, ...references].join(" · ");
}

/** A percent with the precision it deserves: "27", "1.0", "0.4". */
export const roundPercent = (v: number): string => (v >= 10 ? v.toFixed(0) : v.toFixed(1));
