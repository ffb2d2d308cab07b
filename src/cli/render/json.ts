// `--log json`: every event as one JSON line, nothing else on stdout.
import type { EventSink } from "../../train/events.js";
import type { Output } from "./output.js";

export const createJsonSink =
  (out: Output): EventSink =>
  (event) =>
    out.write(`${JSON.stringify(event)}\n`);
