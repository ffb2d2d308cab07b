// Small text formatters shared by the Ink dashboard, the plain-lines logger and
// the report: durations, counts, losses, unicode bars and sparklines.

/** "45s", "3m07s", "2h05m", "1d03h"; "?" for a non-finite or negative value. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, "0")}h`;
}

/** Parameter counts and the like: 950, 12.3k, 23.51M, 1.20G. */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  if (abs < 1e3) return String(n);
  if (abs < 1e6) return `${(n / 1e3).toFixed(abs < 1e4 ? 2 : 1)}k`;
  if (abs < 1e9) return `${(n / 1e6).toFixed(2)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}

/** A loss value in a fixed width of 4 significant decimals: "2.3412", "0.0031", "1.2e-5", "NaN". */
export function formatLoss(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  if (x !== 0 && Math.abs(x) < 1e-3) return x.toExponential(1);
  if (Math.abs(x) >= 1e4) return x.toExponential(2);
  return x.toFixed(4);
}

/** "1 epoch", "3 epochs". */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Learning rate: "1.0e-4". */
export const formatLr = (lr: number): string => lr.toExponential(1);

/** Samples per second with sensible precision: "3.42", "41.2", "1203". */
export function formatRate(x: number): string {
  if (!Number.isFinite(x)) return "?";
  if (x < 10) return x.toFixed(2);
  if (x < 1000) return x.toFixed(1);
  return x.toFixed(0);
}

const SPARK = "▁▂▃▄▅▆▇█";

/**
 * One character per value, scaled between the values' min and max; a constant
 * series is drawn at mid height (at the bottom when it is 0: a loss that is off),
 * a non-finite value as "×". At most `width` characters: the most recent values.
 */
export function sparkline(values: readonly number[], width: number): string {
  const recent = values.slice(Math.max(0, values.length - width));
  const finite = recent.filter(Number.isFinite);
  if (finite.length === 0) return "×".repeat(recent.length);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return recent
    .map((v) => {
      if (!Number.isFinite(v)) return "×";
      if (hi === lo) return lo === 0 ? SPARK[0] : SPARK[3];
      return SPARK[Math.round(((v - lo) / (hi - lo)) * (SPARK.length - 1))];
    })
    .join("");
}

const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/**
 * A horizontal bar of exactly `width` cells for a fraction in [0, 1], in
 * eighths of a cell ("███▌    "), padded with `empty`.
 */
export function bar(fraction: number, width: number, empty = " "): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const eighths = Math.round(f * width * 8);
  const full = Math.floor(eighths / 8);
  const part = EIGHTHS[eighths % 8];
  const drawn = "█".repeat(full) + part;
  return drawn + empty.repeat(width - full - (part ? 1 : 0));
}

/** Pads or truncates (with "…") to exactly `width` columns. */
export function fit(text: string, width: number, align: "left" | "right" = "left"): string {
  if (width <= 0) return "";
  if (text.length > width) return width === 1 ? "…" : `${text.slice(0, width - 1)}…`;
  return align === "left" ? text.padEnd(width) : text.padStart(width);
}

/** A metric value in percent: "24.30". */
export const formatPercent = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : "—");
