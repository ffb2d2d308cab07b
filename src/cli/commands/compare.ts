// `sdfn compare RUN|SWEEP...`: the paper's table — one row per variant, R@K per set and
// their means, mean ± std over seeds, the best per column marked — as text, Markdown,
// JSON, and an HTML page with the variants' loss and recall curves overlaid.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineCommand, UsageError, NO_PLUGINS_OPTION } from "../command.js";

export const command = defineCommand({
  name: "compare",
  summary: "compare runs and sweeps: one row per variant, mean ± std over seeds",
  usage: "RUN|SWEEP... [options]",
  description: `Compares finished runs: a sweep directory (from \`sdfn sweep\`) gives one row per variant with
mean ± std over its seeds; a run directory (from \`sdfn build\`) gives a row of its own.
Columns: each set's R@K and mean (e.g. dress/R@10), then their averages (avg/…), in percent,
from each run's best evaluation (the one its best checkpoint holds); the best mean per column
is marked. Each variant's note (--html, --json) is the settings in which its recipe differs.`,
  options: {
    markdown: { type: "boolean", help: "a Markdown table instead of text" },
    json: { type: "boolean", help: "the table as JSON (every run's value included)" },
    html: { type: "string", arg: "FILE", help: "also write an HTML page: the table and the loss and recall curves overlaid" },
    "no-plugins": { ...NO_PLUGINS_OPTION, help: "accepted by every command; this one never runs plugin code" },
  },
  examples: ["sdfn compare runs/sweep-quickstart-20261201-210000 --markdown"],
  async run({ values, positionals }) {
    if (positionals.length === 0) throw new UsageError("compare: give at least one RUN or SWEEP directory (see sdfn compare --help)");
    if (values.markdown && values.json) throw new UsageError("--markdown and --json: pick one");
    const { collectVariants, CompareError } = await import("../../compare/collect.js");
    const { compareTable, formatMarkdown, formatText } = await import("../../compare/table.js");
    let variants;
    try {
      variants = collectVariants(positionals);
    } catch (err) {
      if (err instanceof CompareError) throw new UsageError(err.message);
      throw err;
    }
    const table = compareTable(variants);
    if (values.json) process.stdout.write(`${JSON.stringify(table, null, 2)}\n`);
    else process.stdout.write(values.markdown ? formatMarkdown(table) : formatText(table));
    if (values.html) {
      const { renderCompare } = await import("../../compare/html.js");
      writeFileSync(values.html, renderCompare(variants, table, `sdfn compare · ${positionals.join(" ")}`));
      if (!values.json) process.stderr.write(`html: ${resolve(values.html)}\n`);
    }
    return 0;
  },
});
