// Plain progress lines for logs and pipes (no TTY, or CI set): a line every N
// steps (about ten per epoch, and at least once a minute), one per epoch,
// evaluation, checkpoint, warning and stop; never an escape code.
import type { EventSink } from "../../train/events.js";
import { formatCheckpoint, formatEnd, formatEpoch, formatEvaluation, formatProgress, formatStart, formatStep, formatStopped } from "./lines.js";
import type { Output } from "./output.js";
import { applyEvent, emptyState, etaSeconds, markStopping } from "./state.js";

export interface PlainOptions {
  /** Print every N steps; default: about ten lines per epoch. */
  every?: number;
  /** Also print a step when this many ms passed since the last step line (event time). */
  maxQuietMs?: number;
}

export interface PlainLogger {
  sink: EventSink;
  /** Notes a stop request (q or the first Ctrl-C). */
  stopping(): void;
}

export function createPlainLogger(out: Output, opts: PlainOptions = {}): PlainLogger {
  const state = emptyState();
  const maxQuietMs = opts.maxQuietMs ?? 60_000;
  let every = opts.every ?? 1;
  let lastStepLine = Number.NEGATIVE_INFINITY;
  let lastTenth = -1;
  const line = (text: string) => out.write(`${text}\n`);
  const sink: EventSink = (e) => {
    applyEvent(state, e);
    switch (e.type) {
      case "start":
        every = opts.every ?? Math.max(1, Math.ceil(e.info.stepsPerEpoch / 10));
        formatStart(e.info).forEach(line);
        return;
      case "step": {
        const due = (e.epochStep + 1) % every === 0 || e.time - lastStepLine >= maxQuietMs;
        if (!due) return;
        lastStepLine = e.time;
        return line(formatStep(e, state.info?.epochs ?? e.epoch + 1, etaSeconds(state)));
      }
      case "epoch":
        return line(formatEpoch(e, state.info?.epochs ?? e.epoch + 1, state.info?.losses));
      case "evaluation":
        return line(formatEvaluation(e));
      case "checkpoint":
        return line(formatCheckpoint(e));
      case "warning":
        return line(`warning: ${e.message}`);
      case "progress": {
        // the first, every tenth and the last
        const tenth = Math.floor((10 * e.done) / Math.max(1, e.total));
        if (e.done !== 0 && e.done !== e.total && tenth === lastTenth) return;
        lastTenth = tenth;
        return line(formatProgress(e));
      }
      case "stopped":
        return formatStopped(e).forEach(line);
      case "end":
        return line(formatEnd(e));
    }
  };
  return {
    sink,
    stopping() {
      markStopping(state, Date.now());
      line("stopping after the current step; a checkpoint follows (Ctrl-C again exits now)");
    },
  };
}
