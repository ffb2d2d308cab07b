// writeReport(runDir): the run's report.html, from metrics.jsonl,
// recipe.resolved.yaml and summary.json. Called at the end of `sdfn build` and
// by `sdfn report RUN_DIR`.
import { renameSync, writeFileSync } from "node:fs";
import { RunDir } from "../run/run-dir.js";
import { renderReport } from "./html.js";
import { readRun } from "./read.js";

export { RunDirError, readRun, type RunRecord } from "./read.js";
export { renderReport } from "./html.js";

/** Writes RUN_DIR/report.html (via a temporary file and a rename) and returns its path. */
export async function writeReport(runDir: string): Promise<string> {
  const html = renderReport(readRun(runDir));
  const file = new RunDir(runDir).report;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, html);
  renameSync(tmp, file);
  return file;
}
