// A run directory: the one place its file names are spelled, and the event sink
// that writes metrics.jsonl (every event), summary.json (at "end") and
// recipe.resolved.yaml (at open). Light on purpose (node:fs only): the report and
// the CLI read run directories through it without loading tfjs. Every file is
// written through src/io/owned-files.ts: never through a symbolic link.
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { appendToFile, replaceFile } from "../io/owned-files.js";
import type { EventSink, TrainEvent } from "../train/events.js";
import { UsageError } from "../util/errors.js";
import { eventToFile } from "./epochs.js";

/** Every file of a run directory, relative to it. */
export const RUN_FILES = {
  recipe: "recipe.resolved.yaml",
  metrics: "metrics.jsonl",
  summary: "summary.json",
  vocabulary: "vocabulary.json",
  report: "report.html",
  gallery: "gallery.json",
  checkpoints: "checkpoints",
  /** Held while a process writes the run (run-lock.ts). */
  lock: "sdfn.lock",
} as const;

/** TensorBoard's event files in a run directory start with this (run/tensorboard.ts). */
export const EVENT_FILE_PREFIX = "events.out.tfevents.";

/** A name sdfn writes into a run directory (any other entry is the user's). */
export const isRunFile = (name: string): boolean =>
  (Object.values(RUN_FILES) as string[]).includes(name) || name.startsWith(EVENT_FILE_PREFIX) || name === "logs";

/** A run directory that cannot be used as asked (not one, in use, not writable, another run's): a mistake in the command's directory, exit 2; the message says why and what to do. */
export class RunDirError extends UsageError {}

export type CheckpointTag = "last" | "best";

/** The files of one checkpoint unit (a directory; see checkpoint-unit.ts): weights, resume state, metadata. */
export interface CheckpointFiles {
  dir: string;
  weights: string;
  state: string;
  meta: string;
}

/** The files of the checkpoint unit in `dir`. */
export function checkpointFiles(dir: string): CheckpointFiles {
  return { dir, weights: join(dir, "weights.safetensors"), state: join(dir, "state.safetensors"), meta: join(dir, "meta.json") };
}

export class RunDir {
  /** The absolute directory. */
  readonly path: string;

  constructor(dir: string) {
    this.path = resolve(dir);
  }

  get recipe(): string {
    return join(this.path, RUN_FILES.recipe);
  }
  get metrics(): string {
    return join(this.path, RUN_FILES.metrics);
  }
  get summary(): string {
    return join(this.path, RUN_FILES.summary);
  }
  get vocabulary(): string {
    return join(this.path, RUN_FILES.vocabulary);
  }
  get report(): string {
    return join(this.path, RUN_FILES.report);
  }
  get gallery(): string {
    return join(this.path, RUN_FILES.gallery);
  }
  get checkpoints(): string {
    return join(this.path, RUN_FILES.checkpoints);
  }

  /** checkpoints/TAG/{weights.safetensors, state.safetensors, meta.json} (and manifest.json; TAG.prev/ the one before). */
  checkpoint(tag: CheckpointTag): CheckpointFiles {
    return checkpointFiles(join(this.checkpoints, tag));
  }

  /** A completed checkpoint TAG (or its predecessor TAG.prev) is there; readCheckpoint verifies it. */
  hasCheckpoint(tag: CheckpointTag): boolean {
    return [tag, `${tag}.prev`].some((d) => existsSync(join(this.checkpoints, d, "manifest.json")));
  }

  /** Creates the directory and writes the resolved recipe (a resume rewrites the same text). */
  open(recipeYaml: string): void {
    mkdirSync(this.path, { recursive: true });
    replaceFile(this.recipe, recipeYaml);
  }

  /** An event sink: each event is appended to metrics.jsonl, "end" also writes summary.json (epochs 1-based), then `next` sees it. */
  sink(next: EventSink): EventSink {
    return (event: TrainEvent) => {
      const written = eventToFile(event);
      if (written.type === "end") replaceFile(this.summary, `${JSON.stringify(written.summary, null, 2)}\n`);
      appendToFile(this.metrics, `${JSON.stringify(written)}\n`);
      next(event);
    };
  }
}
