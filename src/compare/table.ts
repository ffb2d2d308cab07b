// The paper's table layout: one row per variant, one column per metric (R@K per
// dataset/category, then their means), each cell the mean ± sample standard deviation
// over the variant's seeds, the best mean per column marked; as text, Markdown or JSON.
import { shownMetrics } from "../view/metrics.js";
import { formatTable } from "../view/table.js";
import type { Variant } from "./collect.js";

export interface Cell {
  mean: number;
  /** Sample standard deviation (n − 1); null with one run. */
  std: number | null;
  n: number;
  values: number[];
}

export interface CompareRow {
  variant: string;
  label: string;
  seeds: (number | null)[];
  /** Per run, the epoch (from 1) of the best evaluation its values come from; null when unknown. */
  epochs: (number | null)[];
  dirs: string[];
  missing: string[];
  cells: Record<string, Cell | null>;
}

export interface CompareTable {
  columns: string[];
  rows: CompareRow[];
  /** Per column, the variants with the highest mean (ties all marked). */
  best: Record<string, string[]>;
}

/** Column order: every set's metrics as the runs list them, the "avg/…" columns last; avg dropped when one set only (it repeats it). */
export function metricColumns(variants: readonly Variant[]): string[] {
  return shownMetrics(variants.flatMap((v) => v.runs.flatMap((r) => Object.keys(r.metrics))));
}

export function cellOf(values: number[]): Cell | null {
  if (values.length === 0) return null;
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : null;
  return { mean, std, n, values };
}

export function compareTable(variants: readonly Variant[]): CompareTable {
  const columns = metricColumns(variants);
  const rows = variants.map((v) => ({
    variant: v.name,
    label: v.label,
    seeds: v.runs.map((r) => r.seed),
    epochs: v.runs.map((r) => (r.epoch === null ? null : r.epoch + 1)),
    dirs: v.runs.map((r) => r.dir),
    missing: v.missing,
    cells: Object.fromEntries(columns.map((c) => [c, cellOf(v.runs.map((r) => r.metrics[c]).filter((x): x is number => Number.isFinite(x)))])),
  }));
  const best: Record<string, string[]> = {};
  for (const c of columns) {
    const means = rows.map((r) => r.cells[c]?.mean ?? Number.NEGATIVE_INFINITY);
    const top = Math.max(...means);
    // equal to one decimal (as printed) counts as a tie
    best[c] = Number.isFinite(top) ? rows.filter((_, i) => Math.abs(means[i]! - top) < 0.05).map((r) => r.variant) : [];
  }
  return { columns, rows, best };
}

/** "26.4 ± 1.3" (one decimal, as the paper prints percentages); "26.4" for one run; "–" for none. */
export function formatCell(cell: Cell | null): string {
  if (!cell) return "–";
  return cell.std === null ? cell.mean.toFixed(1) : `${cell.mean.toFixed(1)} ± ${cell.std.toFixed(1)}`;
}

const seedsText = (row: CompareRow) => String(row.seeds.length) + (row.missing.length ? ` (+${row.missing.length} missing)` : "");

/** Aligned text columns; the best per column marked with *. */
export function formatText(table: CompareTable): string {
  const header = ["variant", "seeds", ...table.columns.map((c) => `${c}  `)];
  const body = table.rows.map((row) => [
    row.variant,
    seedsText(row),
    ...table.columns.map((c) => formatCell(row.cells[c] ?? null) + (table.best[c]!.includes(row.variant) ? " *" : "  ")),
  ]);
  const lines = formatTable(header, body, { left: 2, trimEnd: true });
  return [...lines, "", "each run's best evaluation (its best checkpoint's); mean ± std over seeds, in percent; * the best mean of its column"].join("\n") + "\n";
}

/** A Markdown table (the best per column in bold). */
export function formatMarkdown(table: CompareTable): string {
  const header = `| variant | seeds | ${table.columns.join(" | ")} |`;
  const rule = `| --- | ---: | ${table.columns.map(() => "---:").join(" | ")} |`;
  const body = table.rows.map((row) => {
    const cells = table.columns.map((c) => {
      const text = formatCell(row.cells[c] ?? null);
      return table.best[c]!.includes(row.variant) ? `**${text}**` : text;
    });
    return `| ${row.variant} | ${seedsText(row)} | ${cells.join(" | ")} |`;
  });
  return [header, rule, ...body].join("\n") + "\n";
}
