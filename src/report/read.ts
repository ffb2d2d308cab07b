// Reads what a run directory holds for the report: the events in metrics.jsonl
// (one TrainEvent per line, appended across resumes), the resolved recipe and
// summary.json. A torn last line (a run killed mid-write) is skipped.
import { existsSync, readFileSync } from "node:fs";
import { RunDir, RunDirError } from "../run/run-dir.js";
import type { GalleryFile } from "../run/gallery.js";
import type { TrainEvent } from "../train/events.js";
import { epochIndex, eventsFromFile, summaryShifted } from "../run/epochs.js";

export interface RunRecord {
  dir: string;
  events: TrainEvent[];
  /** Lines of metrics.jsonl that did not parse (1-based). */
  badLines: number[];
  recipeYaml?: string;
  summary?: Record<string, unknown>;
  /** gallery.json: example retrievals with their images (written after training). */
  gallery?: GalleryFile;
}

export { RunDirError } from "../run/run-dir.js";

export function readRun(dir: string): RunRecord {
  const run = new RunDir(dir);
  const metrics = run.metrics;
  if (!existsSync(metrics)) {
    throw new RunDirError(
      `${run.path}: no metrics.jsonl here; give a run directory written by \`sdfn build\` (it holds metrics.jsonl, recipe.resolved.yaml, summary.json)`,
    );
  }
  const written: TrainEvent[] = [];
  const badLines: number[] = [];
  readFileSync(metrics, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const e = JSON.parse(line) as TrainEvent;
        if (typeof e?.type === "string") written.push(e);
        else badLines.push(i + 1);
      } catch {
        badLines.push(i + 1);
      }
    });
  const recipeFile = run.recipe;
  const summaryFile = run.summary;
  let summary: Record<string, unknown> | undefined;
  if (existsSync(summaryFile)) {
    try {
      summary = JSON.parse(readFileSync(summaryFile, "utf8")) as Record<string, unknown>;
    } catch {
      summary = undefined;
    }
  }
  // Files number epochs from 1 (older ones from 0); in memory they are 0-based (src/run/epochs.ts).
  const { events, oneBased } = eventsFromFile(written);
  if (summary && oneBased) summary = summaryShifted(summary, epochIndex);
  return {
    dir,
    events,
    badLines,
    recipeYaml: existsSync(recipeFile) ? readFileSync(recipeFile, "utf8") : undefined,
    summary,
    gallery: readJson<GalleryFile>(run.gallery),
  };
}

/** A JSON file's value, or undefined when it is missing or torn. */
function readJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}
