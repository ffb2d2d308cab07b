// Recall and the mean routing path per kind of modification (shapes: recolor, resize,
// remove, move, add), for sets whose queries carry a `kind`: does the router send
// different edits through different modules, and which kinds does the model get right?
import { recallAt } from "./retrieval.js";

/** One kind's share of a set: its query count, recall per K and mean routing path. */
export interface KindStats {
  queries: number;
  /** "R@K" → percent over this kind's queries. */
  recall: Record<string, number>;
  /** Per fusion layer, (M, R): the routing distributions averaged over this kind's queries. */
  path: number[][][];
}

/** Kind → its stats, kinds in first-seen query order. */
export type KindBreakdown = Record<string, KindStats>;

/** Sums of per-query routing paths by kind, filled batch by batch during an evaluation. */
export class PathSums {
  private readonly sums = new Map<string, { count: number; path: number[][][] }>();

  /** Adds query paths (per layer (B, M, R) arrays) of queries with these kinds (one per batch row). */
  add(kinds: readonly (string | undefined)[], layers: readonly number[][][][]): void {
    kinds.forEach((kind, b) => {
      if (kind === undefined) return;
      const path = layers.map((layer) => layer[b]!);
      const entry = this.sums.get(kind);
      if (!entry) {
        this.sums.set(kind, { count: 1, path: path.map((m) => m.map((row) => row.slice())) });
        return;
      }
      entry.count++;
      path.forEach((m, l) => m.forEach((row, i) => row.forEach((v, j) => (entry.path[l]![i]![j]! += v))));
    });
  }

  /** The mean path of `kind` (empty when none of its queries was added). */
  mean(kind: string): number[][][] {
    const entry = this.sums.get(kind);
    return entry ? entry.path.map((m) => m.map((row) => row.map((v) => v / entry.count))) : [];
  }
}

/** Recall per K and mean path per kind of `queries` from their ranks (0-based, as positiveRanks gives). */
export function kindBreakdown(
  queries: readonly { kind?: string }[],
  ranks: readonly number[],
  ks: readonly number[],
  paths?: PathSums,
): KindBreakdown {
  const byKind = new Map<string, number[]>();
  queries.forEach((q, i) => {
    if (q.kind === undefined) return;
    if (!byKind.has(q.kind)) byKind.set(q.kind, []);
    byKind.get(q.kind)!.push(ranks[i]!);
  });
  const out: KindBreakdown = {};
  for (const [kind, kindRanks] of byKind) {
    out[kind] = {
      queries: kindRanks.length,
      recall: Object.fromEntries(ks.map((k) => [`R@${k}`, recallAt(kindRanks, k)])),
      path: paths?.mean(kind) ?? [],
    };
  }
  return out;
}

/** True when some query of the set names its kind (only then is a breakdown computed). */
export const hasKinds = (queries: readonly { kind?: string }[]): boolean => queries.some((q) => q.kind !== undefined);
