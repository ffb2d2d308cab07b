// Inline SVG line charts for report.html: no scripts, no external assets.
// Lines break at non-finite values; few points are drawn as dots too.

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  name: string;
  points: Point[];
  /** Dashed: a reference line (e.g. uniform routing). */
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  /** Include these values in the y range (e.g. 0, or 1 for weights). */
  yInclude?: number[];
  /** Vertical marker lines, e.g. the best evaluation. */
  markers?: { x: number; label: string }[];
  /** x ticks on whole numbers only (epochs). */
  integerX?: boolean;
  /** A logarithmic y axis (values ≤ 0 are left out). */
  logY?: boolean;
}

export const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

const escapeXml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** "Nice" tick values (1, 2, 2.5, 5 × 10^k steps) covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5, minStep = 0): number[] {
  if (!(hi > lo)) {
    const pad = minStep || (Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1);
    return niceTicks(lo - pad, hi + pad, count, minStep);
  }
  const raw = Math.max((hi - lo) / count, minStep);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(+v.toPrecision(12));
  if (ticks[ticks.length - 1] < hi) ticks.push(+(ticks[ticks.length - 1] + step).toPrecision(12));
  return ticks;
}

const formatTick = (v: number) => {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(1);
  return String(+v.toPrecision(4));
};

/** Averages points into at most `max` buckets of equal x width (keeps a long run's shape in few points). */
export function downsample(points: Point[], max: number): Point[] {
  if (points.length <= max) return points;
  const x0 = points[0].x;
  const span = points[points.length - 1].x - x0 || 1;
  const sums = Array.from({ length: max }, () => ({ x: 0, y: 0, n: 0 }));
  for (const p of points) {
    if (!Number.isFinite(p.y)) continue;
    const b = sums[Math.min(max - 1, Math.floor(((p.x - x0) / span) * max))];
    b.x += p.x;
    b.y += p.y;
    b.n++;
  }
  return sums.filter((b) => b.n > 0).map((b) => ({ x: b.x / b.n, y: b.y / b.n }));
}

/** An SVG line chart with axes, grid, legend and optional markers. */
export function lineChart(chart: ChartOptions): string {
  const opts = chart.logY ? logScaled(chart) : chart;
  const width = opts.width ?? 560;
  const height = opts.height ?? 260;
  const legendRows = legendLayout(opts.series, width - 60).rows;
  const m = { left: 56, right: 16, top: 28, bottom: 36 + 18 * legendRows };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const all = opts.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y) && Number.isFinite(p.x));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img"`,
    `<title>${escapeXml(opts.title)}</title>`,
    `<text x="${m.left}" y="18" class="chart-title">${escapeXml(opts.title)}</text>`,
  ];
  if (all.length === 0) {
    parts[0] += ">";
    parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="empty">no data</text></svg>`);
    return parts.join("");
  }
  const xs = all.map((p) => p.x);
  const ys = [...all.map((p) => p.y), ...(opts.yInclude ?? [])];
  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs), 6, opts.integerX ? 1 : 0);
  const yTicks = niceTicks(Math.min(...ys), Math.max(...ys), 5);
  const [x0, x1] = [xTicks[0], xTicks[xTicks.length - 1]];
  const [y0, y1] = [yTicks[0], yTicks[yTicks.length - 1]];
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0 || 1)) * pw;
  const sy = (y: number) => m.top + ph - ((y - y0) / (y1 - y0 || 1)) * ph;
  const r = (v: number) => v.toFixed(1);
  // what the hover script needs to turn a point's position back into its value (src/report/interact.ts)
  parts[0] += ` class="chart" data-scale="${[m.left, m.top, pw, ph, x0, x1, y0, y1, chart.logY ? 1 : 0].join(",")}">`;
  const tick = (t: number) => formatTick(chart.logY ? 10 ** t : t);

  for (const t of yTicks)
    parts.push(
      `<line x1="${m.left}" x2="${m.left + pw}" y1="${r(sy(t))}" y2="${r(sy(t))}" class="grid"/>`,
      `<text x="${m.left - 6}" y="${r(sy(t) + 4)}" text-anchor="end" class="tick">${tick(t)}</text>`,
    );
  for (const t of xTicks)
    parts.push(`<text x="${r(sx(t))}" y="${m.top + ph + 16}" text-anchor="middle" class="tick">${formatTick(t)}</text>`);
  parts.push(
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" class="frame"/>`,
    `<text x="${m.left + pw / 2}" y="${m.top + ph + 30}" text-anchor="middle" class="axis">${escapeXml(opts.xLabel)}</text>`,
  );
  for (const mk of opts.markers ?? [])
    parts.push(
      `<line x1="${r(sx(mk.x))}" x2="${r(sx(mk.x))}" y1="${m.top}" y2="${m.top + ph}" class="marker"/>`,
      `<text x="${r(sx(mk.x) + 3)}" y="${m.top + 11}" class="marker-label">${escapeXml(mk.label)}</text>`,
    );
  opts.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const dash = s.dashed ? ` stroke-dasharray="4 3"` : "";
    for (const seg of segments(s.points))
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="1.6"${dash} data-name="${escapeXml(s.name)}" data-values="${seg.map((p) => `${+p.x.toPrecision(7)},${+p.y.toPrecision(7)}`).join(" ")}" points="${seg.map((p) => `${r(sx(p.x))},${r(sy(p.y))}`).join(" ")}"/>`,
      );
    if (s.points.length <= 30 && !s.dashed)
      for (const p of s.points.filter((q) => Number.isFinite(q.y)))
        parts.push(`<circle cx="${r(sx(p.x))}" cy="${r(sy(p.y))}" r="2.5" fill="${color}"/>`);
  });
  parts.push(legend(opts.series, m.left, m.top + ph + 44, width - 60));
  parts.push("</svg>");
  return parts.join("");
}

/** Runs of consecutive finite points (a NaN breaks the line). */
function segments(points: Point[]): Point[][] {
  const out: Point[][] = [[]];
  for (const p of points) {
    if (Number.isFinite(p.y)) out[out.length - 1].push(p);
    else if (out[out.length - 1].length) out.push([]);
  }
  return out.filter((s) => s.length > 0);
}

const itemWidth = (name: string) => 40 + name.length * 7;

function legendLayout(series: Series[], width: number) {
  let x = 0;
  let row = 0;
  const at = series.map((s) => {
    if (x > 0 && x + itemWidth(s.name) > width) {
      x = 0;
      row++;
    }
    const pos = { x, row };
    x += itemWidth(s.name);
    return pos;
  });
  return { at, rows: series.length ? row + 1 : 0 };
}

function legend(series: Series[], left: number, top: number, width: number): string {
  const { at } = legendLayout(series, width);
  return series
    .map((s, i) => {
      const { x, row } = at[i];
      const y = top + row * 18;
      const color = PALETTE[i % PALETTE.length];
      const dash = s.dashed ? ` stroke-dasharray="4 3"` : "";
      return (
        `<line x1="${left + x}" x2="${left + x + 18}" y1="${y - 4}" y2="${y - 4}" stroke="${color}" stroke-width="2.5"${dash}/>` +
        `<text x="${left + x + 22}" y="${y}" class="legend">${escapeXml(s.name)}</text>`
      );
    })
    .join("");
}

/** The chart of log10(y) (non-positive values dropped as gaps), ticks labelled with y. */
function logScaled(opts: ChartOptions): ChartOptions {
  const log = (y: number) => (y > 0 ? Math.log10(y) : Number.NaN);
  return {
    ...opts,
    series: opts.series.map((s) => ({ ...s, points: s.points.map((p) => ({ x: p.x, y: log(p.y) })) })),
    yInclude: opts.yInclude?.filter((y) => y > 0).map(log),
  };
}
