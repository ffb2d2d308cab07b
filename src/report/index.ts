// writeReport(runDir): the run's report.html, from metrics.jsonl,
// recipe.resolved.yaml and summary.json. Called at the end of `sdfn build` and
// by `sdfn report RUN_DIR`.
import { replaceFile } from "../io/owned-files.js";
import { RunDir } from "../run/run-dir.js";
import { renderReport } from "./html.js";
import { readRun } from "./read.js";

export { RunDirError, readRun, type RunRecord } from "./read.js";
export { renderReport } from "./html.js";

/** Writes RUN_DIR/report.html (via a temporary file and a rename) and returns its path. */
export async function writeReport(runDir: string): Promise<string> {
  const file = new RunDir(runDir).report;
  replaceFile(file, renderReport(readRun(runDir)));
  return file;
}
