// compare.html: the comparison table and the variants' curves overlaid — total loss per
// step and each recall metric per epoch, each the mean over the variant's seeds — one
// self-contained page like report.html (hover a chart for its values).
import { escapeHtml, STYLE } from "../report/page.js";
import { HOVER_SCRIPT, INTERACT_STYLE } from "../report/interact.js";
import { evaluations, uniqueSteps } from "../report/series.js";
import { downsample, lineChart, type Point, type Series } from "../report/svg.js";
import type { Variant } from "./collect.js";
import { formatCell, type CompareTable } from "./table.js";

const MAX_POINTS = 400;

/** Mean over runs of the points at the same x (an x every run has). */
export function meanCurve(curves: readonly Point[][]): Point[] {
  if (curves.length === 0) return [];
  const maps = curves.map((c) => new Map(c.map((p) => [p.x, p.y])));
  return curves[0]!
    .map((p) => p.x)
    .filter((x) => maps.every((m) => m.has(x)))
    .map((x) => ({ x, y: maps.reduce((a, m) => a + m.get(x)!, 0) / maps.length }));
}

function lossChart(variants: readonly Variant[]): string {
  const series: Series[] = variants.map((v) => ({
    name: v.name,
    points: downsample(meanCurve(v.runs.map((r) => uniqueSteps(r.events).map((s) => ({ x: s.step + 1, y: s.total })))), MAX_POINTS),
  }));
  return lineChart({ title: "total loss (mean over seeds)", xLabel: "step", series });
}

function recallChart(variants: readonly Variant[], metric: string): string {
  const series: Series[] = variants.map((v) => ({
    name: v.name,
    points: meanCurve(v.runs.map((r) => evaluations(r.events).filter((e) => metric in e.metrics).map((e) => ({ x: e.epoch + 1, y: e.metrics[metric]! })))),
  }));
  return lineChart({ title: `${metric} (mean over seeds, %)`, xLabel: "epoch", series, integerX: true });
}

function tableHtml(table: CompareTable): string {
  const head = `<tr><th>variant</th><th>seeds</th>${table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr>`;
  const rows = table.rows.map((row) => {
    const cells = table.columns.map((c) => {
      const text = escapeHtml(formatCell(row.cells[c] ?? null));
      return table.best[c]!.includes(row.variant) ? `<td class="top"><b>${text}</b></td>` : `<td>${text}</td>`;
    });
    return `<tr><td title="${escapeHtml(row.label)}">${escapeHtml(row.variant)}</td><td>${row.seeds.length}</td>${cells.join("")}</tr>`;
  });
  return `<table class="compare">${head}${rows.join("")}</table><p class="note">each run's best evaluation (its best checkpoint's); mean ± std over seeds, in percent; bold: the best mean of its column.</p>`;
}

export function renderCompare(variants: readonly Variant[], table: CompareTable, title: string): string {
  const note = (r: CompareTable["rows"][number]) => (r.label && r.label !== r.variant ? `: ${escapeHtml(r.label)}` : "");
  const labels = table.rows.map((r) => `<li><b>${escapeHtml(r.variant)}</b>${note(r)}${r.missing.length ? ` — not finished: ${escapeHtml(r.missing.join(", "))}` : ""}</li>`);
  return [
    `<!doctype html>`,
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeHtml(title)}</title><style>${STYLE}${INTERACT_STYLE} td.top { color: #2f7d32; }</style></head>`,
    `<body><main>`,
    `<h1>${escapeHtml(title)}</h1>`,
    tableHtml(table),
    `<ul>${labels.join("")}</ul>`,
    `<h2>Curves</h2><div class="grid">`,
    lossChart(variants),
    ...table.columns.map((c) => recallChart(variants, c)),
    `</div>`,
    `<p class="note">Written by <code>sdfn compare</code>.</p>`,
    `</main>${HOVER_SCRIPT}</body></html>`,
    "",
  ].join("\n");
}
