// One-line plain-text renderings of run events, without escape codes: the
// plain logger prints them, the Ink dashboard keeps them as finished lines.
import type { RunInfo, TrainEvent } from "../../train/events.js";
import type { ReferenceRecalls } from "../../eval/baselines.js";
import { comparisonLine } from "../../view/baselines.js";
import { formatCount, formatDuration, formatLoss, formatLr, formatPercent, formatRate, plural } from "../../view/format.js";
import { NOT_COMPARABLE } from "../../data/missing-images.js";
import { shownMetrics } from "../../view/metrics.js";

type Of<T extends TrainEvent["type"]> = Extract<TrainEvent, { type: T }>;

/** "batch_classification 2.1034 · consistency 0.2011" in the order the run declared. */
export function formatLossList(losses: Record<string, number>, order: readonly string[] = []): string {
  const names = [...order.filter((n) => n in losses), ...Object.keys(losses).filter((n) => !order.includes(n))];
  return names.map((n) => `${n} ${formatLoss(losses[n])}`).join(" · ");
}

/** Two lines: what runs where, and its shape. */
export function formatStart(info: RunInfo): string[] {
  const layers = info.layers.length
    ? `${info.layers.length}×${info.layers[0].length} fusion [${info.layers[0].join(" ")}]`
    : "no fusion layers";
  const resumed = info.startEpoch > 0 ? ` · resumed at epoch ${info.startEpoch + 1}` : "";
  return [
    `${info.recipeName} · ${info.backend} (${info.device}) · ${formatCount(info.parameters)} parameters · ${info.runDir}`,
    `${plural(info.epochs, "epoch")} × ${plural(info.stepsPerEpoch, "step")} · batch ${info.batchSize} · ${layers}${resumed}`,
  ];
}

/** Data-parallel steps: "2 ranks · slowest 120 ms (rank 1)", the straggler's step time without its waits; "" for one process. */
export function formatRanks(e: Of<"step">): string {
  if (!e.world || e.world < 2) return "";
  const slowest = e.slowestStepMs === undefined ? "" : ` · slowest ${e.slowestStepMs.toFixed(0)} ms (rank ${e.slowestRank ?? 0})`;
  return `${e.world} ranks${slowest}`;
}

export function formatStep(e: Of<"step">, epochs: number, eta?: number): string {
  const where = `epoch ${e.epoch + 1}/${epochs} step ${e.epochStep + 1}/${e.stepsPerEpoch}`;
  const etaText = eta === undefined ? "" : ` · ETA ${formatDuration(eta)}`;
  return (
    `${where} · loss ${formatLoss(e.total)} (${formatLossList(e.losses)}) · lr ${formatLr(e.lr)}` +
    ` · ${formatRate(e.samplesPerSec)} samples/s${etaText}${formatRanks(e) ? ` · ${formatRanks(e)}` : ""}`
  );
}

/** `full`: every loss component (logs); otherwise their sum (the dashboard's finished lines). */
export function formatEpoch(e: Of<"epoch">, epochs: number, order: readonly string[] = [], full = true): string {
  const sum = Object.values(e.losses).reduce((a, b) => a + b, 0);
  const losses = full ? formatLossList(e.losses, order) : `loss ${formatLoss(e.losses.total ?? sum)}`;
  const c = e.compiled;
  const compiled = c ? ` · ${c.replayed} steps replayed, ${c.eager} eager, ${c.programs} program${c.programs === 1 ? "" : "s"} built` : "";
  return `epoch ${e.epoch + 1}/${epochs} done in ${formatDuration(e.seconds)} · ${formatRate(e.samplesPerSec)} samples/s · ${losses}${compiled}`;
}

/** `full`: every metric (logs); otherwise the primary one only (the dashboard's table has the rest). */
export function formatEvaluation(e: Of<"evaluation">, full = true): string {
  const best = e.best ? " ★ best" : "";
  const primary = `${e.primary.name} ${formatPercent(e.primary.value)}${best}`;
  if (!full) return `evaluation after epoch ${e.epoch + 1}: ${primary}`;
  const metrics = shownMetrics(Object.keys(e.metrics))
    .map((k) => `${k} ${formatPercent(e.metrics[k]!)}`)
    .join(" · ");
  const compared = comparisonLine(e.metrics, e.baselines);
  return `evaluation after epoch ${e.epoch + 1}: ${metrics} · primary ${primary}${compared ? ` · ${compared}` : ""}`;
}

/** "checking images 120/1000 (12%)". */
export function formatProgress(e: Of<"progress">): string {
  const percent = e.total > 0 ? Math.floor((100 * e.done) / e.total) : 100;
  return `${e.task} ${e.done}/${e.total} (${percent}%)`;
}

export function formatCheckpoint(e: Of<"checkpoint">): string {
  const what = { epoch: "end of epoch", best: "best, epoch", interrupt: "interrupted in epoch", every: `step ${e.step}, epoch` }[e.reason];
  return `checkpoint (${what} ${e.epoch + 1}): ${e.path}`;
}

/**
 * The stop notice. The resume command stands alone on its last line, exactly as
 * the trainer gave it, so it can be copied.
 */
export function formatStopped(e: Of<"stopped">): string[] {
  const lines = [`stopped (${e.reason}): ${e.message}`];
  if (e.resumeCommand) lines.push("resume with:", e.resumeCommand);
  return lines;
}

/**
 * The closing line: the trainer's summary (status, best metric, time, run
 * directory) when it has those fields, otherwise its short scalar fields.
 */
export function formatEnd(e: Of<"end">): string {
  const s = e.summary;
  if (typeof s.status === "string") {
    const best = s.best as { name?: string; value?: number; epoch?: number } | null | undefined;
    const parts = [`done (${s.status})`];
    const compared = comparisonLine((s.metrics ?? {}) as Record<string, number>, s.baselines as ReferenceRecalls | undefined);
    if (compared) parts.push(compared);
    if (best && typeof best.value === "number")
      parts.push(`best ${best.name ?? "metric"} ${formatPercent(best.value)}${typeof best.epoch === "number" ? ` after epoch ${best.epoch + 1}` : ""}`);
    if (s.comparable_to_published === false) parts.push(NOT_COMPARABLE);
    if (typeof s.seconds === "number") parts.push(formatDuration(s.seconds));
    if (typeof s.run_dir === "string") parts.push(s.run_dir);
    return parts.join(" · ");
  }
  const parts = Object.entries(s)
    .filter(([, v]) => typeof v === "number" || typeof v === "boolean" || (typeof v === "string" && v.length <= 40))
    .map(([k, v]) => `${k} ${typeof v === "number" && !Number.isInteger(v) ? v.toFixed(4) : String(v)}`);
  return parts.length ? `done · ${parts.join(" · ")}` : "done";
}
