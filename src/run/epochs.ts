// Epoch numbers. In memory an epoch is its 0-based index (the loop, RNG streams, schedules,
// TrainEvent, RunSummary); everything a user reads — messages, metrics.jsonl, summary.json,
// checkpoints' meta.json, JSON output — numbers epochs from 1. The conversions are here only.
import type { RunInfo, TrainEvent } from "../train/events.js";

/** The 1-based number users see for the epoch of 0-based `index`. */
export const epochNumber = (index: number) => index + 1;
/** The 0-based index of the epoch users call `n`. */
export const epochIndex = (n: number) => n - 1;

/** A start event in a file carries this mark: its run's epoch numbers start at 1 (older files have 0-based ones). */
const MARK: keyof RunInfo = "epochsFrom";

type Shift = (epoch: number) => number;

/** `event` as it is written to metrics.jsonl or printed as JSON: epoch numbers from 1, its start marked so. */
export function eventToFile(event: TrainEvent): TrainEvent {
  const out = shifted(event, epochNumber);
  return out.type === "start" ? { ...out, info: { ...out.info, [MARK]: 1 } } : out;
}

/**
 * The events of a metrics.jsonl back in memory's numbering. A resumed run appends a segment
 * (from its start event on): each is read by its own start's mark, so a run directory written
 * before epochs were 1-based (and resumed since) still reads right. `oneBased`: the last segment's.
 */
export function eventsFromFile(events: readonly TrainEvent[]): { events: TrainEvent[]; oneBased: boolean } {
  let oneBased = false;
  const out = events.map((e) => {
    if (e.type === "start") oneBased = e.info[MARK] === 1;
    return oneBased ? shifted(e, epochIndex) : e;
  });
  return { events: out, oneBased };
}

/** A summary (summary.json, the end event) with its best epoch shifted. */
export function summaryShifted(summary: Record<string, unknown>, f: Shift): Record<string, unknown> {
  const best = summary.best as { epoch?: unknown } | null | undefined;
  return best && typeof best.epoch === "number" ? { ...summary, best: { ...best, epoch: f(best.epoch) } } : summary;
}

function shifted(event: TrainEvent, f: Shift): TrainEvent {
  switch (event.type) {
    case "step":
    case "epoch":
    case "evaluation":
    case "checkpoint":
      return { ...event, epoch: f(event.epoch) };
    case "start": // the epoch the run starts in (resumed: not the first)
      return { ...event, info: { ...event.info, startEpoch: f(event.info.startEpoch) } };
    case "end":
      return { ...event, summary: summaryShifted(event.summary, f) };
    default:
      return event;
  }
}

/** A checkpoint's position in words: "after epoch 2" at an epoch's end, else "in epoch 3, step 40". */
export function positionText(p: { epoch: number; epochStep: number }): string {
  // At an epoch's end the position is the next epoch's index: the number of the one just finished.
  if (p.epochStep === 0) return p.epoch === 0 ? "before the first epoch" : `after epoch ${p.epoch}`;
  return `in epoch ${epochNumber(p.epoch)}, step ${p.epochStep}`;
}

/** The 1-based epoch a checkpoint's weights come from (the last one finished, or the one in progress). */
export function weightsEpoch(p: { epoch: number; epochStep: number }): number {
  return p.epochStep === 0 ? p.epoch : epochNumber(p.epoch);
}
