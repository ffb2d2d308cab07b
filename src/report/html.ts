// report.html: one self-contained page (inline CSS, SVG and one small hover script, no
// external assets) with a run's losses, schedule, throughput, recall, example retrievals,
// routing and resolved recipe.
import { missingImagesLine, NOT_COMPARABLE, type MissingImagesRecord } from "../data/missing-images.js";
import { formatCount, formatDuration, formatPercent } from "../view/format.js";
import { comparisonLine } from "../view/baselines.js";
import type { TrainEvent } from "../train/events.js";
import { epochNumber, summaryShifted } from "../run/epochs.js";
import type { RunRecord } from "./read.js";
import { bestEvaluation, evaluations, lastInfo, lossSeries, recallGroups, routingCharts, uniqueSteps } from "./series.js";
import { GALLERY_STYLE, gallerySection } from "./gallery.js";
import { KINDS_STYLE, kindsSection } from "./kinds.js";
import { escapeHtml, STYLE } from "./page.js";
import { HOVER_SCRIPT, INTERACT_STYLE } from "./interact.js";
import { downsample, lineChart, type Series } from "./svg.js";

/** At most this many points per loss line (bucket means beyond). */
const MAX_POINTS = 600;

type Of<T extends TrainEvent["type"]> = Extract<TrainEvent, { type: T }>;

const card = (value: string, label: string) => `<div class="card"><b>${escapeHtml(value)}</b><span>${escapeHtml(label)}</span></div>`;

function header(run: RunRecord): string {
  const info = lastInfo(run.events);
  const s = run.summary ?? {};
  const name = info?.recipeName ?? String(s.recipe ?? "sdfn run");
  const sub = info
    ? `${info.backend} (${info.device}) · ${formatCount(info.parameters)} parameters · ${info.epochs} epochs × ${info.stepsPerEpoch} steps · batch ${info.batchSize} · ${info.layers.length} fusion layers [${info.layers.map((l) => l.join(" ")).join(" | ")}]`
    : "";
  const best = s.best as { name: string; value: number; epoch: number } | null | undefined;
  const cards = [
    typeof s.status === "string" ? card(s.status, "status") : "",
    best ? card(`${formatPercent(best.value)}`, `best ${best.name} (epoch ${best.epoch + 1})`) : "",
    typeof s.epochs === "number" ? card(String(s.epochs), "epochs done") : "",
    typeof s.steps === "number" ? card(String(s.steps), "steps") : "",
    typeof s.seconds === "number" ? card(formatDuration(s.seconds), "time") : "",
    typeof s.samples_per_s === "number" ? card(s.samples_per_s.toFixed(1), "samples/s (training)") : "",
  ].join("");
  const pretrained = pretrainedLine(s.pretrained);
  return (
    `<h1>${escapeHtml(name)}</h1><p class="sub">${escapeHtml(sub)}</p>` +
    `<p class="sub">run directory: <code>${escapeHtml(info?.runDir ?? run.dir)}</code></p>` +
    (pretrained ? `<p class="sub">${pretrained}</p>` : "") +
    missingImagesNote(s.missing_images as MissingImagesRecord | undefined) +
    (cards ? `<div class="cards">${cards}</div>` : "")
  );
}

/** Which encoders started from pretrained files (path, SHA-256) and which from scratch (summary.json's `pretrained`). */
function pretrainedLine(record: unknown): string {
  if (!record || typeof record !== "object") return "";
  const parts = Object.entries(record as Record<string, { file: string; sha256: string; loaded: string } | null>).map(([key, source]) =>
    source
      ? `${escapeHtml(key)}: pretrained from <code>${escapeHtml(source.file)}</code> (sha256 <code>${escapeHtml(source.sha256)}</code>; ${escapeHtml(source.loaded)})`
      : `${escapeHtml(key)}: from scratch (random init)`,
  );
  return parts.join(" · ");
}

/** A run with data.missing_images: skip: what it dropped, and the not-comparable mark when the evaluation lost images. */
function missingImagesNote(record: MissingImagesRecord | undefined): string {
  if (!record || typeof record !== "object" || typeof record.missing !== "number") return "";
  const mark = record.comparable === false ? `<b class="warn">${escapeHtml(NOT_COMPARABLE)}</b>. ` : "";
  return `<p class="sub">${mark}${escapeHtml(missingImagesLine(record))}</p>`;
}

function lossSection(run: RunRecord): string {
  const steps = uniqueSteps(run.events);
  const series = lossSeries(steps, lastInfo(run.events)?.losses);
  if (series.length === 0) return `<h2>Losses</h2><p class="note">No training steps recorded.</p>`;
  // each chart twice, linear and logarithmic; the switch above them shows one (CSS only)
  const charts = series.map((s) => {
    const chart = { title: s.name === "total" ? "total loss" : `${s.name} (weighted)`, xLabel: "step", series: [{ ...s, points: downsample(s.points, MAX_POINTS) }] };
    return `<div class="linear">${lineChart(chart)}</div><div class="log">${lineChart({ ...chart, title: `${chart.title}, log scale`, logY: true })}</div>`;
  });
  const note = steps.length > MAX_POINTS ? ` Lines show means over ${MAX_POINTS} equal spans of the ${steps.length} steps.` : "";
  return (
    `<h2>Losses</h2><p class="note">Each weighted loss component and their sum, per training step.${note}</p>` +
    `<input type="checkbox" id="log-losses"><label class="scale-toggle" for="log-losses"> log scale</label><div class="grid">${charts.join("")}</div>`
  );
}

/** The learning rate per step and the training throughput over the run's time. */
function scheduleSection(run: RunRecord): string {
  const steps = uniqueSteps(run.events);
  if (steps.length === 0) return "";
  const lr: Series = { name: "lr", points: downsample(steps.map((s) => ({ x: s.step + 1, y: s.lr })), MAX_POINTS) };
  const t0 = steps[0]!.time;
  const speed: Series = { name: "samples/s", points: downsample(steps.map((s) => ({ x: (s.time - t0) / 60_000, y: s.samplesPerSec })), MAX_POINTS) };
  return (
    `<h2>Schedule and throughput</h2><p class="note">The learning rate at each step, and training samples per second over the run's wall time ` +
    `(minutes since its first step; a resume continues on the clock).</p><div class="grid">` +
    lineChart({ title: "learning rate", xLabel: "step", series: [lr], yInclude: [0] }) +
    lineChart({ title: "throughput (samples/s)", xLabel: "minutes", series: [speed], yInclude: [0] }) +
    `</div>`
  );
}

function recallSection(run: RunRecord): string {
  const evals = evaluations(run.events);
  if (evals.length === 0) return `<h2>Recall</h2><p class="note">No evaluation recorded.</p>`;
  const best = bestEvaluation(evals);
  const markers = best ? [{ x: best.epoch + 1, label: "★ best" }] : [];
  const charts = recallGroups(evals).map(({ group, series }) =>
    lineChart({ title: group ? `${group} recall (%)` : "recall (%)", xLabel: "epoch", series, markers, integerX: true }),
  );
  const names = [...new Set(evals.flatMap((e) => Object.keys(e.metrics)))];
  const rows = evals
    .map(
      (e) =>
        `<tr${e === best ? ` class="best"` : ""}><td>${e === best ? "★ " : ""}${e.epoch + 1}</td>${names.map((n) => `<td>${formatPercent(e.metrics[n])}</td>`).join("")}</tr>`,
    )
    .join("");
  // Chance and the dataset's single-modality baselines on the same sets, under the model's rows.
  const references = Object.entries(evals.at(-1)?.baselines ?? {})
    .map(([name, recall]) => `<tr class="baseline"><td>${escapeHtml(name)}</td>${names.map((n) => `<td>${n in recall ? formatPercent(recall[n]!) : ""}</td>`).join("")}</tr>`)
    .join("");
  const compared = comparisonLine(evals.at(-1)!.metrics, evals.at(-1)!.baselines);
  const against = compared ? ` Against the references (last evaluation): ${escapeHtml(compared)}.` : "";
  const primary = best ? ` The best evaluation (★) by ${escapeHtml(best.primary.name)}: ${formatPercent(best.primary.value)} after epoch ${best.epoch + 1}.` : "";
  return (
    `<h2>Recall</h2><p class="note">Recall@K in percent after each evaluation, per category / protocol.${primary}${against}</p>` +
    `<div class="grid">${charts.join("")}</div>` +
    `<table><thead><tr><th>epoch</th>${names.map((n) => `<th>${escapeHtml(n)}</th>`).join("")}</tr></thead><tbody>${rows}${references}</tbody></table>`
  );
}

function routingSection(run: RunRecord): string {
  const info = lastInfo(run.events);
  const charts = routingCharts(uniqueSteps(run.events), info?.layers ?? []);
  if (charts.length === 0) return `<h2>Routing</h2><p class="note">No routing weights recorded.</p>`;
  const svgs = charts.map((c) => {
    const m = c.series.length;
    const xs = c.series[0]?.points.map((p) => p.x) ?? [];
    const uniform: Series = { name: `uniform 1/${m}`, dashed: true, points: xs.map((x) => ({ x, y: 1 / m })) };
    const title = c.label.startsWith("out") ? `output weights w over layer ${c.label.match(/L(\d+)/)?.[1]}'s modules` : `weight each module of ${c.label.replace("into ", "layer ")} receives`;
    return lineChart({ title, xLabel: "epoch", series: [...c.series, uniform], yInclude: [0], integerX: true });
  });
  return (
    `<h2>Routing</h2><p class="note">Mean routing weight per module, averaged over the steps of each epoch (or part of one): ` +
    `for layers 2…L the weight each module receives from the previous layer's routers, and the output weights w of the last layer. ` +
    `The dashed line is uniform routing.</p><div class="grid">${svgs.join("")}</div>`
  );
}

function eventsSection(run: RunRecord): string {
  const items = run.events
    .filter((e): e is Of<"checkpoint"> | Of<"warning"> | Of<"stopped"> => e.type === "checkpoint" || e.type === "warning" || e.type === "stopped")
    .map((e) => {
      const when = new Date(e.time).toISOString().replace("T", " ").slice(0, 19);
      if (e.type === "checkpoint") return `<li>${when} checkpoint (${e.reason}, epoch ${e.epoch + 1}): <code>${escapeHtml(e.path)}</code></li>`;
      if (e.type === "warning") return `<li class="warning">${when} warning: ${escapeHtml(e.message)}</li>`;
      const resume = e.resumeCommand ? `<br>resume with: <code>${escapeHtml(e.resumeCommand)}</code>` : "";
      return `<li class="${e.reason === "interrupt" ? "warning" : "error"}">${when} stopped (${e.reason}): ${escapeHtml(e.message)}${resume}</li>`;
    });
  const bad = run.badLines.length ? `<p class="note">Skipped unreadable lines of metrics.jsonl: ${run.badLines.join(", ")}.</p>` : "";
  return items.length || bad ? `<h2>Events</h2><ul class="events">${items.join("")}</ul>${bad}` : "";
}

/** The whole page. */
export function renderReport(run: RunRecord): string {
  const info = lastInfo(run.events);
  const title = `sdfn report · ${info?.recipeName ?? run.dir}`;
  const recipe = run.recipeYaml
    ? `<h2>Resolved recipe</h2><pre>${escapeHtml(run.recipeYaml)}</pre>`
    : `<h2>Resolved recipe</h2><p class="note">recipe.resolved.yaml is missing.</p>`;
  // As summary.json spells it (epochs from 1).
  const summary = run.summary ? `<h2>Summary</h2><pre>${escapeHtml(JSON.stringify(summaryShifted(run.summary, epochNumber), null, 2))}</pre>` : "";
  return [
    `<!doctype html>`,
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeHtml(title)}</title><style>${STYLE}${INTERACT_STYLE}${GALLERY_STYLE}${KINDS_STYLE}</style></head>`,
    `<body><main>`,
    header(run),
    lossSection(run),
    scheduleSection(run),
    recallSection(run),
    gallerySection(run.gallery),
    routingSection(run),
    kindsSection(run.summary, info?.layers[0] ?? []),
    eventsSection(run),
    recipe,
    summary,
    `<p class="note">Written by <code>sdfn report</code> from metrics.jsonl (${run.events.length} events).</p>`,
    `</main>${HOVER_SCRIPT}</body></html>`,
    "",
  ].join("\n");
}
