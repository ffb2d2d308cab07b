// What the dashboard shows, folded from run events. `applyEvent` is cheap (the
// trainer calls the sink synchronously every step); anything heavier (routing
// means, ETA) is computed when a frame is drawn, at most ~10 times a second.
import type { RunInfo, TrainEvent } from "../../train/events.js";
import { formatCheckpoint, formatEpoch, formatEvaluation, formatProgress, formatStart, formatStopped } from "./lines.js";

type Of<T extends TrainEvent["type"]> = Extract<TrainEvent, { type: T }>;

/** How many recent values each loss keeps for its sparkline. */
export const LOSS_HISTORY = 240;
/** How many recent steps the routing bars average over. */
export const ROUTING_WINDOW = 50;
const MESSAGES = 50;

export interface Message {
  time: number;
  tone: "info" | "warning" | "error";
  text: string;
}

/** A finished line kept above the live area (Ink `<Static>`); `key` is unique. */
export interface FinishedLine {
  key: number;
  tone: "info" | "good" | "warning" | "error";
  text: string;
}

export interface DashboardState {
  info?: RunInfo;
  /** Time of the start event (ms). */
  startTime?: number;
  lastStep?: Of<"step">;
  /** Loss name → recent values (oldest first); "total" included. */
  history: Map<string, number[]>;
  /** Recent routing matrices (rows × modules), oldest first. */
  routing: number[][][];
  evaluations: Of<"evaluation">[];
  bestEvaluation?: Of<"evaluation">;
  messages: Message[];
  finished: FinishedLine[];
  /** Smoothed seconds per step, from consecutive step events. */
  secondsPerStep?: number;
  /** Seconds the last evaluation took (from its epoch event to the evaluation event). */
  evaluationSeconds?: number;
  epochsDone: number;
  /** The user asked to stop; the run ends after the current step. */
  stopping: boolean;
  stopped?: Of<"stopped">;
  ended?: Of<"end">;
  /** Time of the previous event and whether it was a step (for step timing). */
  previous?: { time: number; type: TrainEvent["type"] };
  lastEpochEventTime?: number;
  /** A preparation before the start (checking images), while it runs. */
  progress?: Of<"progress">;
}

export const emptyState = (): DashboardState => ({
  history: new Map(),
  routing: [],
  evaluations: [],
  messages: [],
  finished: [],
  epochsDone: 0,
  stopping: false,
});

const pushCapped = <T>(list: T[], item: T, cap: number) => {
  list.push(item);
  if (list.length > cap) list.splice(0, list.length - cap);
};

let finishedKey = 0;
const finish = (s: DashboardState, text: string, tone: FinishedLine["tone"] = "info") =>
  s.finished.push({ key: finishedKey++, tone, text });

const say = (s: DashboardState, time: number, text: string, tone: Message["tone"] = "info") =>
  pushCapped(s.messages, { time, tone, text }, MESSAGES);

function applyStep(s: DashboardState, e: Of<"step">) {
  // Step timing only from back-to-back steps: an evaluation in between is not a step's cost.
  if (s.previous?.type === "step" && e.time > s.previous.time) {
    const dt = (e.time - s.previous.time) / 1000;
    s.secondsPerStep = s.secondsPerStep === undefined ? dt : 0.8 * s.secondsPerStep + 0.2 * dt;
  }
  s.lastStep = e;
  for (const [name, value] of [...Object.entries(e.losses), ["total", e.total] as const]) {
    let h = s.history.get(name);
    if (!h) s.history.set(name, (h = []));
    pushCapped(h, value, LOSS_HISTORY);
  }
  if (e.routing.length) pushCapped(s.routing, e.routing, ROUTING_WINDOW);
}

/** Folds one event into the state (mutates it). */
export function applyEvent(s: DashboardState, e: TrainEvent): void {
  switch (e.type) {
    case "start":
      s.info = e.info;
      s.startTime = e.time;
      // The first start line is the live header (name, backend, parameters, run directory): kept once, there.
      for (const line of formatStart(e.info).slice(1)) finish(s, line);
      break;
    case "step":
      applyStep(s, e);
      break;
    case "epoch":
      s.epochsDone++;
      s.lastEpochEventTime = e.time;
      finish(s, formatEpoch(e, s.info?.epochs ?? e.epoch + 1, s.info?.losses, false));
      break;
    case "evaluation":
      if (s.lastEpochEventTime !== undefined) s.evaluationSeconds = (e.time - s.lastEpochEventTime) / 1000;
      s.evaluations.push(e);
      if (e.best || !s.bestEvaluation) s.bestEvaluation = e;
      finish(s, formatEvaluation(e, false), e.best ? "good" : "info");
      break;
    case "checkpoint":
      say(s, e.time, formatCheckpoint(e));
      break;
    case "warning":
      say(s, e.time, `warning: ${e.message}`, "warning");
      break;
    case "progress":
      s.progress = e.done < e.total ? e : undefined;
      if (e.done === e.total) finish(s, formatProgress(e));
      break;
    case "stopped":
      s.stopped = e;
      say(s, e.time, formatStopped(e)[0], e.reason === "interrupt" ? "info" : "error");
      break;
    case "end":
      s.ended = e;
      break;
  }
  s.previous = { time: e.time, type: e.type };
}

/** The user pressed q or Ctrl-C once. */
export function markStopping(s: DashboardState, time: number): void {
  if (s.stopping) return;
  s.stopping = true;
  say(s, time, "stop requested: finishing the current step, then a checkpoint", "warning");
}

/** Mean routing weight per row and module over the recent window (rows × modules). */
export function routingMeans(s: DashboardState): number[][] {
  const window = s.routing;
  if (window.length === 0) return [];
  const last = window[window.length - 1];
  return last.map((row, r) =>
    row.map((_, m) => {
      let sum = 0;
      let n = 0;
      for (const matrix of window) {
        const v = matrix[r]?.[m];
        if (Number.isFinite(v)) {
          sum += v;
          n++;
        }
      }
      return n ? sum / n : Number.NaN;
    }),
  );
}

/** Seconds left: remaining steps at the smoothed step time, plus the evaluations still to come. */
export function etaSeconds(s: DashboardState): number | undefined {
  const e = s.lastStep;
  const info = s.info;
  if (!e || !info || s.secondsPerStep === undefined) return undefined;
  const epochsLeft = info.epochs - e.epoch - 1;
  const steps = epochsLeft * e.stepsPerEpoch + (e.stepsPerEpoch - e.epochStep - 1);
  const evaluated = s.evaluations.length / Math.max(1, s.epochsDone);
  const evals = (s.evaluationSeconds ?? 0) * Math.round(evaluated * (epochsLeft + 1));
  return steps * s.secondsPerStep + evals;
}
