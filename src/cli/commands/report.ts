// `sdfn report RUN_DIR` — (re)writes a run's report.html from its run directory.
import type { Command } from "../command.js";
import { parseCommandArgs, UsageError } from "../command.js";

export const command: Command = {
  name: "report",
  summary: "write a run's report.html: loss, recall and routing charts and the resolved recipe",
  help: `Usage: sdfn report RUN_DIR

Writes RUN_DIR/report.html, one self-contained page (inline SVG, no external
files) with the weighted loss components per step, Recall@K after each
evaluation, the routing weight of each module per layer over the epochs, and
the resolved recipe. It reads RUN_DIR/metrics.jsonl, recipe.resolved.yaml and
summary.json; \`sdfn build\` writes the same report at the end of a run, and
this command refreshes it (also for a run still in progress).

Example:
  sdfn report runs/quickstart-20261128-021500`,
  async run(argv) {
    const { positionals } = parseCommandArgs("report", argv, {});
    if (positionals.length !== 1) {
      throw new UsageError(`report: expected one RUN_DIR, got ${positionals.length} (see sdfn report --help)`);
    }
    const { writeReport, RunDirError } = await import("../../report/index.js");
    try {
      const file = await writeReport(positionals[0]);
      process.stdout.write(`${file}\n`);
      return 0;
    } catch (err) {
      if (err instanceof RunDirError) throw new UsageError(err.message);
      throw err;
    }
  },
};
