// `--log json`: every event as one JSON line (as metrics.jsonl writes it: epochs 1-based), nothing else on stdout.
import { eventToFile } from "../../run/epochs.js";
import type { EventSink } from "../../train/events.js";
import type { Output } from "./output.js";

export const createJsonSink =
  (out: Output): EventSink =>
  (event) =>
    out.write(`${JSON.stringify(eventToFile(event))}\n`);
