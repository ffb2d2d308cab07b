// Runs a sweep's plan one run after another: a finished run is skipped, one with a last
// checkpoint resumed, any other (re)started in its own directory. Each run is an ordinary
// `train` into SWEEP/VARIANT/seed-N with its report; progress goes out as sweep events.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadRecipe, type LoadOptions } from "../recipe/index.js";
import type { RunSummary } from "../run/train.js";
import type { EventSink, TrainEvent } from "../train/events.js";
import { runState, type PlannedRun, type RunState, type SweepPlan } from "./plan.js";

export type SweepEvent =
  | { type: "run-start"; index: number; count: number; run: PlannedRun; dir: string; state: RunState }
  | { type: "run-event"; index: number; run: PlannedRun; event: TrainEvent }
  | { type: "run-end"; index: number; count: number; run: PlannedRun; dir: string; skipped: boolean; summary: Record<string, unknown> | null };

export interface SweepOptions {
  backend?: string;
  device?: string;
  onEvent(event: SweepEvent): void;
  signal?: AbortSignal;
  /** The command that resumes the sweep (shown when a run is interrupted). */
  resumeCommand: string;
  /** The user's --no-plugins and --allow-outside-root, for every run's recipe. */
  load?: Pick<LoadOptions, "noPlugins" | "allowOutsideRoot">;
}

export interface SweepOutcome {
  status: "completed" | "interrupted" | "failed";
  /** Runs trained or resumed now (finished ones skipped are not counted). */
  trained: number;
  skipped: number;
}

const readSummary = async (dir: string): Promise<Record<string, unknown> | null> => {
  const { readRun } = await import("../report/index.js");
  try {
    return readRun(dir).summary ?? null;
  } catch {
    return null;
  }
};

/** Trains every run of `plan` under `sweepDir` in order; stops when a run is interrupted (a diverged one is kept, and the sweep goes on). */
export async function runSweep(sweepDir: string, plan: SweepPlan, opts: SweepOptions): Promise<SweepOutcome> {
  const { train } = await import("../run/train.js");
  const { writeReport } = await import("../report/index.js");
  const count = plan.runs.length;
  let trained = 0;
  let skipped = 0;
  let failed = 0;
  for (const [index, run] of plan.runs.entries()) {
    if (opts.signal?.aborted) return { status: "interrupted", trained, skipped };
    const dir = join(sweepDir, run.id);
    const state = runState(dir);
    opts.onEvent({ type: "run-start", index, count, run, dir, state });
    if (state === "finished") {
      skipped++;
      opts.onEvent({ type: "run-end", index, count, run, dir, skipped: true, summary: await readSummary(dir) });
      continue;
    }
    const loaded = await loadRecipe(run.recipe, { sets: run.sets, ...opts.load });
    const onEvent: EventSink = (event) => opts.onEvent({ type: "run-event", index, run, event });
    const summary: RunSummary = await train(loaded, {
      outDir: dir,
      // A run that stopped before its first checkpoint starts afresh in its directory (train says so).
      resume: existsSync(dir) ? dir : undefined,
      backend: opts.backend,
      device: opts.device,
      onEvent,
      signal: opts.signal,
      resumeCommand: opts.resumeCommand,
    });
    await writeReport(dir);
    trained++;
    opts.onEvent({ type: "run-end", index, count, run, dir, skipped: false, summary: summary as unknown as Record<string, unknown> });
    if (summary.status === "interrupted") return { status: "interrupted", trained, skipped };
    if (summary.status !== "completed") failed++; // a diverged run is kept as it ended; the next run starts
  }
  return { status: failed > 0 ? "failed" : "completed", trained, skipped };
}
