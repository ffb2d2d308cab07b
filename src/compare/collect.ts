// Gathers the runs `sdfn compare` reads: a sweep directory gives its planned runs grouped
// by variant (seeds together); a run directory is a variant of its own. Each run brings
// the metrics of its best evaluation (the one its best checkpoint holds), its events (for
// the curves) and its resolved recipe, from which each variant's note is the settings in
// which it differs from the others.
import { existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { readRun } from "../report/read.js";
import { evaluations } from "../report/series.js";
import { readPlan } from "../sweep/plan.js";
import type { TrainEvent } from "../train/events.js";

export interface ComparedRun {
  dir: string;
  seed: number | null;
  /** The best evaluation's metrics in percent ("dress/R@10", "avg/mean", …); empty when it never evaluated. */
  metrics: Record<string, number>;
  /** The epoch of that evaluation (0-based); null when unknown (no events of it left). */
  epoch: number | null;
  status: string;
  events: TrainEvent[];
  /** recipe.resolved.yaml's text, when there. */
  recipe?: string;
}

export interface Variant {
  name: string;
  /** What the variant changes: the resolved-recipe settings in which it differs from the others compared ("fusion.router.type=static"). */
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
  const best = bestEvaluation(record.events, summary.best as { epoch?: unknown } | null | undefined);
  return {
    dir,
    seed,
    metrics: best?.metrics ?? ((summary.metrics ?? {}) as Record<string, number>),
    epoch: best?.epoch ?? null,
    status: String(summary.status ?? "unknown"),
    events: record.events,
    recipe: record.recipeYaml,
  };
}

/** The evaluation of the run's best checkpoint: summary.json's best epoch (its latest evaluation), else the last one marked best. */
function bestEvaluation(events: readonly TrainEvent[], best: { epoch?: unknown } | null | undefined) {
  const evals = evaluations(events);
  return evals.find((e) => e.epoch === best?.epoch) ?? [...evals].reverse().find((e) => e.best);
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
  labelDifferences(variants);
  return variants;
}

/** At most this many settings in a note; the rest are counted. */
const MAX_SETTINGS = 6;

/** Sets each variant's label to the settings (KEY.PATH=VALUE, as --set spells them) in which its recipe differs from the other variants'; the name aside. */
function labelDifferences(variants: Variant[]): void {
  const settings = variants.map((v) => (v.runs[0]?.recipe === undefined ? undefined : flatSettings(v.runs[0].recipe)));
  const known = settings.filter((s): s is Map<string, string> => s !== undefined);
  if (known.length < 2) return;
  const keys = [...new Set(known.flatMap((s) => [...s.keys()]))].filter((k) => k !== "name");
  const differing = keys.filter((k) => new Set(known.map((s) => s.get(k) ?? "(none)")).size > 1);
  variants.forEach((v, i) => {
    const mine = settings[i];
    if (!mine) return; // no finished run: the plan's label stays
    const shown = differing.map((k) => `${k}=${mine.get(k) ?? "(none)"}`);
    v.label = shown.length === 0 ? "the same recipe as the others" : shown.slice(0, MAX_SETTINGS).join(" ") + (shown.length > MAX_SETTINGS ? ` (+${shown.length - MAX_SETTINGS} more)` : "");
  });
}

/** A resolved recipe as KEY.PATH → value (YAML flow text), lists by index (fusion.modules.1.heads); {} when it does not parse. */
function flatSettings(yamlText: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (value: unknown, path: string) => {
    if (value !== null && typeof value === "object" && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    } else if (path) out.set(path, typeof value === "string" ? value : JSON.stringify(value));
  };
  try {
    walk(parseYaml(yamlText), "");
  } catch {
    // an unreadable recipe has no settings to compare
  }
  return out;
}
