// `sdfn report RUN_DIR` — (re)writes a run's report.html from its run directory.
import { UsageError, defineCommand, NO_PLUGINS_OPTION } from "../command.js";

export const command = defineCommand({
  name: "report",
  summary: "write a run's report.html: loss, recall and routing charts and the resolved recipe",
  usage: "RUN_DIR",
  description: `Writes RUN_DIR/report.html, one self-contained page (inline SVG, no external
files) with the weighted loss components per step, Recall@K after each
evaluation, the routing weight of each module per layer over the epochs, and
the resolved recipe. It reads RUN_DIR/metrics.jsonl, recipe.resolved.yaml and
summary.json; \`sdfn build\` writes the same report at the end of a run, and
this command refreshes it (also for a run still in progress).`,
  options: { "no-plugins": { ...NO_PLUGINS_OPTION, help: "accepted by every command; this one never runs plugin code" }, },
  examples: ["sdfn report runs/quickstart-20261128-021500"],
  async run({ values, positionals }) {
    if (positionals.length !== 1) {
      throw new UsageError(`report: expected one RUN_DIR, got ${positionals.length} (see sdfn report --help)`);
    }
    const { writeReport } = await import("../../report/index.js");
    const file = await writeReport(positionals[0]!); // not a run directory: a RunDirError, exit 2
    process.stdout.write(`${file}\n`); // absolute (RunDir resolves it)
    return 0;
  },
});
