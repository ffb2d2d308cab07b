// A run directory: the one place its file names are spelled, and the event sink
// that writes metrics.jsonl (every event), summary.json (at "end") and
// recipe.resolved.yaml (at open). Light on purpose (node:fs only): the report and
// the CLI read run directories through it without loading tfjs.
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { EventSink, TrainEvent } from "../train/events.js";

/** Every file of a run directory, relative to it. */
export const RUN_FILES = {
  recipe: "recipe.resolved.yaml",
  metrics: "metrics.jsonl",
  summary: "summary.json",
  vocabulary: "vocabulary.json",
  report: "report.html",
  gallery: "gallery.json",
  checkpoints: "checkpoints",
} as const;

export type CheckpointTag = "last" | "best";

/** The three files of one checkpoint: weights, resume state, metadata. */
export interface CheckpointFiles {
  dir: string;
  weights: string;
  state: string;
  meta: string;
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

  /** TAG.safetensors, TAG.state.safetensors and TAG.json under checkpoints/. */
  checkpoint(tag: CheckpointTag): CheckpointFiles {
    const dir = this.checkpoints;
    return { dir, weights: join(dir, `${tag}.safetensors`), state: join(dir, `${tag}.state.safetensors`), meta: join(dir, `${tag}.json`) };
  }

  hasCheckpoint(tag: CheckpointTag): boolean {
    return existsSync(this.checkpoint(tag).meta);
  }

  /** Creates the directory and writes the resolved recipe (a resume rewrites the same text). */
  open(recipeYaml: string): void {
    mkdirSync(this.path, { recursive: true });
    writeFileSync(this.recipe, recipeYaml);
  }

  /** An event sink: each event is appended to metrics.jsonl, "end" also writes summary.json, then `next` sees it. */
  sink(next: EventSink): EventSink {
    return (event: TrainEvent) => {
      if (event.type === "end") writeFileSync(this.summary, `${JSON.stringify(event.summary, null, 2)}\n`);
      appendFileSync(this.metrics, `${JSON.stringify(event)}\n`);
      next(event);
    };
  }
}
