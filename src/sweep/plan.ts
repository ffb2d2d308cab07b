// A sweep's plan: recipes (one file, or every *.yaml of a directory) × a grid of
// `--set` values × seeds, each an ordinary run directory under one sweep directory
// (VARIANT/seed-N), listed in SWEEP/sweep.json so the sweep can be resumed and compared.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { replaceFile } from "../io/owned-files.js";
import { RunDir } from "../run/run-dir.js";
import { readJsonFile } from "../util/json-file.js";

export const SWEEP_FILE = "sweep.json";

/** One grid axis: `KEY=[v1,v2,…]`. */
export interface GridAxis {
  key: string;
  values: string[];
}

export interface PlannedRun {
  /** VARIANT/seed-N, also the run directory relative to the sweep directory. */
  id: string;
  /** The variant's name (a directory name): the recipe file's name and/or the grid values. */
  variant: string;
  /** What the variant changes, for tables: the recipe file and the --set values. */
  label: string;
  /** The recipe file, absolute. */
  recipe: string;
  /** --set overrides of the variant (grid values), then `seed=N`. */
  sets: string[];
  seed: number;
}

export interface SweepPlan {
  format: 1;
  /** The recipe files or the directory, as given. */
  source: string;
  grid: GridAxis[];
  seeds: number[];
  /** --set options given for every run (before the grid's). */
  sets: string[];
  runs: PlannedRun[];
}

export class SweepError extends Error {}

/** Splits "a,[b,c],d" at the commas outside brackets and quotes. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = "";
  let current = "";
  for (const ch of text) {
    if (quote) quote = ch === quote ? "" : quote;
    else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "[" || ch === "{") depth++;
    else if (ch === "]" || ch === "}") depth--;
    if (ch === "," && depth === 0 && !quote) {
      parts.push(current.trim());
      current = "";
    } else current += ch;
  }
  parts.push(current.trim());
  return parts;
}

/** Parses `KEY=[v1,v2,…]` (the brackets required, values as `--set` takes them). */
export function parseGrid(text: string): GridAxis {
  const m = /^([A-Za-z_][\w.-]*)=\[(.*)\]$/s.exec(text.trim());
  if (!m) throw new SweepError(`--grid ${text}: expected KEY=[VALUE,VALUE,…], e.g. --grid 'fusion.router.type=[static,shared,msr]'`);
  const values = splitTop(m[2]!);
  if (values.some((v) => v === "")) throw new SweepError(`--grid ${text}: an empty value; list values separated by commas`);
  if (new Set(values).size !== values.length) throw new SweepError(`--grid ${text}: a value is listed twice`);
  return { key: m[1]!, values };
}

/** Every combination of the axes' values, as lists of "KEY=VALUE" (one empty combination without axes). */
function combinations(grid: readonly GridAxis[]): string[][] {
  return grid.reduce<string[][]>((acc, axis) => acc.flatMap((c) => axis.values.map((v) => [...c, `${axis.key}=${v}`])), [[]]);
}

const dirSafe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "x";

/** "fusion.router.type=static" → "type-static"; several joined by "_". */
function comboName(combo: readonly string[]): string {
  return combo
    .map((kv) => {
      const [key, value] = [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)];
      return dirSafe(`${key.split(".").at(-1)}-${value}`);
    })
    .join("_");
}

/** The recipe files of SOURCE: the file itself, or a directory's *.yaml files (sorted, not recursive). */
export function recipeFiles(source: string): string[] {
  if (!existsSync(source)) throw new SweepError(`${source}: no such recipe file or directory`);
  if (!statSync(source).isDirectory()) return [resolve(source)];
  const files = readdirSync(source)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => resolve(source, f));
  if (files.length === 0) throw new SweepError(`${source}: a directory without *.yaml recipes; give a recipe file or a folder of them`);
  return files;
}

export interface PlanOptions {
  grid: GridAxis[];
  /** Seeds of every variant. */
  seeds: number[];
  sets: string[];
}

/** The runs of SOURCE × grid × seeds, in the order they run: variant by variant, seeds inside. */
export function planSweep(source: string, opts: PlanOptions): SweepPlan {
  const files = recipeFiles(source);
  const several = files.length > 1;
  const runs: PlannedRun[] = [];
  for (const file of files) {
    for (const combo of combinations(opts.grid)) {
      const parts = [several || combo.length === 0 ? basename(file).replace(/\.ya?ml$/, "") : "", comboName(combo)].filter(Boolean);
      const variant = parts.join("_");
      const label = [several || combo.length === 0 ? basename(file) : "", ...combo].filter(Boolean).join(" ");
      for (const seed of opts.seeds) {
        runs.push({ id: `${variant}/seed-${seed}`, variant, label, recipe: file, sets: [...opts.sets, ...combo, `seed=${seed}`], seed });
      }
    }
  }
  return { format: 1, source, grid: opts.grid, seeds: opts.seeds, sets: opts.sets, runs };
}

/** What distinguishes two plans (for "this directory holds another sweep"); "" when they are the same. */
export function planDifference(a: SweepPlan, b: SweepPlan): string {
  const ids = (p: SweepPlan) => p.runs.map((r) => `${r.id} ${relative("/", r.recipe)} ${r.sets.join(" ")}`).join("\n");
  if (ids(a) === ids(b)) return "";
  const only = a.runs.find((r) => !b.runs.some((q) => q.id === r.id && q.recipe === r.recipe && q.sets.join() === r.sets.join()));
  return only ? `run ${only.id} (${only.label}) differs` : "the runs differ";
}

export function readPlan(sweepDir: string): SweepPlan | null {
  const file = join(sweepDir, SWEEP_FILE);
  if (!existsSync(file)) return null;
  const plan = readJsonFile(file, "restore it, or plan the sweep again (sdfn sweep RECIPE|DIR --out NEW_DIR)") as SweepPlan;
  if (typeof plan !== "object" || plan === null || plan.format !== 1 || !Array.isArray(plan.runs)) throw new SweepError(`${file}: not a sweep file written by \`sdfn sweep\``);
  return plan;
}

export function writePlan(sweepDir: string, plan: SweepPlan): void {
  mkdirSync(sweepDir, { recursive: true });
  replaceFile(join(sweepDir, SWEEP_FILE), `${JSON.stringify(plan, null, 2)}\n`);
}

export type RunState = "finished" | "resumable" | "new";

/** finished: summary.json says completed (or diverged); resumable: a last checkpoint exists; new: nothing to continue. */
export function runState(runDir: string): RunState {
  const summary = join(runDir, "summary.json");
  if (existsSync(summary)) {
    try {
      // a diverged run (non-finite loss) ended too: resuming would diverge again
      const status = (JSON.parse(readFileSync(summary, "utf8")) as { status?: string }).status;
      if (status === "completed" || status === "non-finite-loss") return "finished";
    } catch {
      // a torn summary: look at the checkpoint
    }
  }
  return new RunDir(runDir).hasCheckpoint("last") ? "resumable" : "new";
}
