// report.html's "Per edit kind" section (summary.json `kinds`): recall per kind of
// modification, and per kind a small SVG heatmap of the mean routing path — each fusion
// layer's sender → receiver weights side by side, then the output weights w.
import type { KindBreakdown } from "../eval/kinds.js";
import { formatPercent } from "../view/format.js";
import { escapeHtml } from "./page.js";

const CELL = 16;
const GAP = 10;
const LABEL = 44;
const HEAD = 28;

export const KINDS_STYLE = `
.heatmaps { display: flex; flex-wrap: wrap; gap: 8px 22px; margin-top: 10px; }
`;

/** Fill of a weight in [0, 1]: the report's blue, from faint to full. */
const fill = (v: number) => `rgba(78,121,167,${(0.08 + 0.92 * Math.min(1, Math.max(0, v))).toFixed(3)})`;

/** One kind's mean path as an SVG heatmap; rows are the senders (modules), one block per layer. */
export function pathHeatmap(title: string, path: readonly number[][][], modules: readonly string[]): string {
  const rows = Math.max(0, ...path.map((layer) => layer.length));
  const blocks: string[] = [];
  let x = LABEL;
  path.forEach((layer, l) => {
    const cols = Math.max(0, ...layer.map((r) => r.length));
    const caption = l === path.length - 1 ? "w" : `${l + 1}→${l + 2}`;
    blocks.push(`<text x="${x + (cols * CELL) / 2}" y="${HEAD - 6}" text-anchor="middle" class="axis">${caption}</text>`);
    layer.forEach((row, i) =>
      row.forEach((v, j) =>
        blocks.push(
          `<rect x="${x + j * CELL}" y="${HEAD + i * CELL}" width="${CELL - 1}" height="${CELL - 1}" fill="${fill(v)}"><title>${escapeHtml(
            `${caption} ${modules[i] ?? i}${cols > 1 ? ` → ${modules[j] ?? j}` : ""}: ${v.toFixed(3)}`,
          )}</title></rect>`,
        ),
      ),
    );
    x += cols * CELL + GAP;
  });
  const labels = Array.from({ length: rows }, (_, i) => `<text x="${LABEL - 4}" y="${HEAD + i * CELL + CELL - 4}" text-anchor="end" class="axis">${escapeHtml(modules[i] ?? String(i))}</text>`);
  const width = x - GAP + 4;
  const height = HEAD + rows * CELL + 4;
  return (
    `<svg class="heatmap" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 16}" viewBox="0 0 ${width} ${height + 16}" role="img" aria-label="${escapeHtml(title)} routing">` +
    `<text x="0" y="12" class="chart-title">${escapeHtml(title)}</text>${labels.join("")}${blocks.join("")}</svg>`
  );
}

/** The kinds of every set of a summary's `kinds`, or undefined when it has none. */
function kindsOf(summary: Record<string, unknown> | undefined): [string, KindBreakdown][] {
  const kinds = summary?.kinds;
  if (!kinds || typeof kinds !== "object") return [];
  return Object.entries(kinds as Record<string, KindBreakdown>).filter(([, b]) => b && Object.keys(b).length > 0);
}

function kindTable(set: string, breakdown: KindBreakdown): string {
  const ks = Object.keys(Object.values(breakdown)[0]?.recall ?? {});
  const head = `<tr><th>${escapeHtml(set)} kind</th><th>queries</th>${ks.map((k) => `<th>${escapeHtml(k)}</th>`).join("")}</tr>`;
  const rows = Object.entries(breakdown).map(
    ([kind, s]) => `<tr><td>${escapeHtml(kind)}</td><td>${s.queries}</td>${ks.map((k) => `<td>${formatPercent(s.recall[k] ?? 0)}</td>`).join("")}</tr>`,
  );
  return `<table>${head}${rows.join("")}</table>`;
}

/** The section; empty when the summary has no per-kind breakdown. `modules`: module names (every layer has the same). */
export function kindsSection(summary: Record<string, unknown> | undefined, modules: readonly string[]): string {
  const sets = kindsOf(summary);
  if (sets.length === 0) return "";
  const parts = sets.map(([set, breakdown]) => {
    const maps = Object.entries(breakdown)
      .filter(([, s]) => s.path.length > 0)
      .map(([kind, s]) => pathHeatmap(`${kind} (${s.queries})`, s.path, modules));
    return kindTable(set, breakdown) + (maps.length ? `<div class="heatmaps">${maps.join("")}</div>` : "");
  });
  return (
    `<h2>Per edit kind</h2><p class="note">Recall per kind of modification at the last evaluation, and each kind's mean routing path: ` +
    `per fusion layer the weight each module (row) sends to each module of the next layer, then the output weights w (darker = more). ` +
    `Kinds that use different modules have different maps; a static router gives every kind the same map.</p>` +
    parts.join("")
  );
}
