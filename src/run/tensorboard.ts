// TensorBoard logs for a run: an event sink that writes the run's scalars — every loss,
// the learning rate, samples/s, the routing means, each evaluation metric — to an
// `events.out.tfevents.*` file in the run directory, so `tensorboard --logdir runs/`
// shows sdfn runs beside PyTorch ones. Node's fs only, like RunDir.
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { appendToFile } from "../io/owned-files.js";
import { scalarsRecord, versionRecord } from "../io/tfevents.js";
import type { EventSink, TrainEvent } from "../train/events.js";
import { EVENT_FILE_PREFIX } from "./run-dir.js";

/** The event file's name as TensorFlow's writers spell it: events.out.tfevents.<seconds>.<host>.<pid>.<n>. */
export function eventFileName(wallTime: number, index = 0): string {
  return `${EVENT_FILE_PREFIX}${Math.floor(wallTime)}.${hostname()}.${process.pid}.${index}`;
}

/** Tags of one routing row: layer l's incoming weights (rows 0…L−2 are layers 2…L), the last row the output weights. */
function routingTags(layers: string[][], row: number): string[] {
  const last = layers.length - 1;
  const modules = layers[Math.min(row + 1, last)] ?? [];
  const group = row === last ? "routing/output" : `routing/layer${row + 2}_in`;
  return modules.map((name, i) => `${group}/${i}_${name}`);
}

/** The scalars one training event contributes, by tag; null for events without any. */
export function scalarsOf(event: TrainEvent, layers: string[][]): Record<string, number> | null {
  switch (event.type) {
    case "step": {
      const out: Record<string, number> = { "loss/total": event.total, lr: event.lr, "samples_per_sec": event.samplesPerSec };
      for (const [name, v] of Object.entries(event.losses)) out[`loss/${name}`] = v;
      event.routing.forEach((row, r) => routingTags(layers, r).forEach((tag, i) => (out[tag] = row[i]!)));
      return out;
    }
    case "epoch": {
      const out: Record<string, number> = { "epoch/samples_per_sec": event.samplesPerSec, "epoch/seconds": event.seconds };
      for (const [name, v] of Object.entries(event.losses)) out[`epoch/loss/${name}`] = v;
      return out;
    }
    case "evaluation":
      return Object.fromEntries(Object.entries(event.metrics).map(([name, v]) => [`eval/${name}`, v]));
    default:
      return null;
  }
}

/**
 * An event sink writing `dir`/events.out.tfevents.* (opened at the run's "start"; a resumed
 * run starts a new file, which TensorBoard reads together with the earlier ones), then `next`.
 * Steps are global training steps; an epoch's and an evaluation's scalars take the step after its last one.
 */
export function tensorboardSink(dir: string, next: EventSink): EventSink {
  let file: string | null = null;
  let layers: string[][] = [];
  let step = 0;
  return (event) => {
    if (event.type === "start") {
      mkdirSync(dir, { recursive: true });
      file = join(dir, eventFileName(event.time / 1000));
      layers = event.info.layers;
      step = event.info.startEpoch * event.info.stepsPerEpoch;
      appendToFile(file, versionRecord(event.time / 1000));
    }
    if (event.type === "step") step = event.step + 1;
    const scalars = file ? scalarsOf(event, layers) : null;
    if (file && scalars) appendToFile(file, scalarsRecord(event.time / 1000, event.type === "step" ? event.step : step, scalars));
    next(event);
  };
}
