// Gathers the runs `sdfn compare` reads: a sweep directory gives its planned runs grouped
// by variant (seeds together); a run directory is a variant of its own. Each run brings
// its final metrics (summary.json) and its events (for the curves).
import { existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { readRun } from "../report/read.js";
import { readPlan } from "../sweep/plan.js";
import type { TrainEvent } from "../train/events.js";

export interface ComparedRun {
  dir: string;
  seed: number | null;
  /** The last evaluation's metrics in percent ("dress/R@10", "avg/mean", …); empty when it never evaluated. */
  metrics: Record<string, number>;
  status: string;
  events: TrainEvent[];
}

export interface Variant {
  name: string;
  /** What the variant changes (recipe file, --set values). */
  label: string;
  runs: ComparedRun[];
  /** Planned runs without a summary yet (not trained, or interrupted). */
  missing: string[];
}

export class CompareError extends Error {}

function readCompared(dir: string, seed: number | null): ComparedRun | null {
  if (!existsSync(join(dir, "summary.json"))) return null;
  const record = readRun(dir);
  const summary = record.summary ?? {};
  return {
    dir,
    seed,
    metrics: (summary.metrics ?? {}) as Record<string, number>,
    status: String(summary.status ?? "unknown"),
    events: record.events,
  };
}

const seedOf = (yaml: string | undefined): number | null => {
  const m = /^seed:\s*(\d+)/m.exec(yaml ?? "");
  return m ? Number(m[1]) : null;
};

/** The variants of PATHS in order: each sweep's variants (plan order), then each run directory. */
export function collectVariants(paths: readonly string[]): Variant[] {
  const variants: Variant[] = [];
  for (const path of paths) {
    const dir = resolve(path);
    const plan = readPlan(dir);
    if (plan) {
      const byName = new Map<string, Variant>();
      for (const run of plan.runs) {
        const name = paths.length > 1 ? `${basename(dir)}/${run.variant}` : run.variant;
        if (!byName.has(name)) byName.set(name, { name, label: run.label, runs: [], missing: [] });
        const compared = readCompared(join(dir, run.id), run.seed);
        if (compared) byName.get(name)!.runs.push(compared);
        else byName.get(name)!.missing.push(run.id);
      }
      variants.push(...byName.values());
      continue;
    }
    if (!existsSync(join(dir, "metrics.jsonl"))) {
      throw new CompareError(`${path}: neither a sweep (sweep.json) nor a run directory (metrics.jsonl); give directories written by \`sdfn sweep\` or \`sdfn build\``);
    }
    const compared = readCompared(dir, seedOf(readRun(dir).recipeYaml));
    // a run inside a sweep (VARIANT/seed-N) is named with its variant
    const name = /^seed-\d+$/.test(basename(dir)) ? `${basename(dirname(dir))}/${basename(dir)}` : basename(dir);
    variants.push({ name, label: name, runs: compared ? [compared] : [], missing: compared ? [] : [name] });
  }
  if (variants.every((v) => v.runs.length === 0)) {
    throw new CompareError(`${paths.join(", ")}: no finished run to compare yet (no summary.json); train first, or resume the sweep`);
  }
  return variants;
}
