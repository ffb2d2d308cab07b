// The sweep's display: one line per run. On a terminal the running run's line is redrawn
// in place (epoch, step, loss, samples/s, last recall) and left as its final state; in
// pipes and logs each run prints a line when it starts and one when it ends; --log json
// prints every sweep event as a JSON line.
import { epochNumber, eventToFile, summaryShifted } from "../../run/epochs.js";
import type { SweepEvent } from "../../sweep/run.js";

export interface SweepLines {
  sink(event: SweepEvent): void;
  /** Ends a live line (before other output). */
  close(): void;
}

interface Live {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  samplesPerSec: number;
  recall?: string;
  stopped?: string;
}

const fmt = (v: unknown, digits = 1) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "–");

function head(e: { index: number; count: number; run: { id: string } }): string {
  const width = String(e.count).length;
  return `[${String(e.index + 1).padStart(width)}/${e.count}] ${e.run.id}`;
}

function liveText(live: Live): string {
  const parts = [`epoch ${live.epoch + 1}/${live.epochs}`, `step ${live.step}/${live.steps}`, `loss ${fmt(live.loss, 3)}`, `${fmt(live.samplesPerSec, 0)} samples/s`];
  if (live.recall) parts.push(live.recall);
  if (live.stopped) parts.push(live.stopped);
  return parts.join("  ");
}

/** A sweep event as JSON output writes it: epoch numbers from 1, as in the run directories' files. */
function sweepEventToJson(e: SweepEvent): SweepEvent {
  if (e.type === "run-event") return { ...e, event: eventToFile(e.event) };
  if (e.type === "run-end" && e.summary) return { ...e, summary: summaryShifted(e.summary, epochNumber) };
  return e;
}

/** The end of a run: its status, its recall (the set averages) and its time. */
export function runEndText(summary: Record<string, unknown> | null, skipped: boolean): string {
  if (!summary) return skipped ? "finished earlier" : "no summary";
  const recall = (summary.recall ?? {}) as Record<string, number>;
  const recallText = Object.entries(recall)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join("  ");
  const status = skipped ? "finished earlier" : String(summary.status ?? "?");
  return [status, recallText, skipped ? "" : `${fmt(summary.seconds, 0)} s`].filter(Boolean).join("  ");
}

export function createSweepLines(write: (text: string) => void, mode: "tty" | "plain" | "json"): SweepLines {
  let live: Live | null = null;
  let liveHead = "";
  let lastDraw = 0;
  const draw = (force = false) => {
    const now = Date.now();
    if (!live || (!force && now - lastDraw < 200)) return;
    lastDraw = now;
    write(`\r\x1b[K${liveHead}  ${liveText(live)}`);
  };
  const onTrain = (e: Extract<SweepEvent, { type: "run-event" }>) => {
    const t = e.event;
    if (t.type === "start") live = { epoch: t.info.startEpoch, epochs: t.info.epochs, step: 0, steps: t.info.stepsPerEpoch, loss: NaN, samplesPerSec: NaN };
    if (!live) return;
    if (t.type === "step") Object.assign(live, { epoch: t.epoch, step: t.epochStep + 1, steps: t.stepsPerEpoch, loss: t.total, samplesPerSec: t.samplesPerSec });
    if (t.type === "evaluation") live.recall = `${t.primary.name} ${fmt(t.primary.value)}`;
    if (t.type === "stopped") {
      live.stopped = t.reason === "interrupt" ? "stopped (checkpoint written)" : `stopped: ${t.reason}`;
      if (mode === "plain") write(`${liveHead}  ${t.message}\n`);
    }
    if (mode === "tty") draw(t.type !== "step");
  };
  return {
    sink(e) {
      if (mode === "json") return write(`${JSON.stringify(sweepEventToJson(e))}\n`);
      if (e.type === "run-start") {
        liveHead = head(e);
        live = null;
        if (e.state === "finished") return;
        const verb = e.state === "resumable" ? "resuming" : "starting";
        if (mode === "plain") write(`${liveHead}  ${verb} (${e.run.label})\n`);
        else write(`${liveHead}  ${verb}…`);
        return;
      }
      if (e.type === "run-event") return onTrain(e);
      const end = runEndText(e.summary, e.skipped);
      write(mode === "tty" && !e.skipped ? `\r\x1b[K${head(e)}  ${end}\n` : `${head(e)}  ${end}\n`);
      live = null;
    },
    close() {
      if (live && mode === "tty") write("\n");
      live = null;
    },
  };
}
