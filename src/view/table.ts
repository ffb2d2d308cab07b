// One formatter for aligned text tables: the leading columns (labels) left-aligned,
// the rest (numbers) right-aligned, two spaces apart. Used by `sdfn eval`,
// `sdfn compare` and the bench.

export interface TableOptions {
  /** How many leading columns are aligned left (default 1); the rest align right. */
  left?: number;
  /** A line of dashes under the header. */
  rule?: boolean;
  /** Drop trailing spaces of each line. */
  trimEnd?: boolean;
}

/** The table's lines: the header, then one per row; each column as wide as its widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], opts: TableOptions = {}): string[] {
  const left = opts.left ?? 1;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => {
    const text = widths.map((w, i) => (i < left ? (cells[i] ?? "").padEnd(w) : (cells[i] ?? "").padStart(w))).join("  ");
    return opts.trimEnd ? text.trimEnd() : text;
  };
  const lines = [line(header), ...rows.map(line)];
  if (opts.rule) lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return lines;
}
