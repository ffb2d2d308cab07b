// Reading a JSON file sdfn wrote (a run's vocabulary, a checkpoint's metadata, a sweep's plan):
// a damaged one — cut off by a full disk or a kill, edited by hand — is the user's to fix, so it
// is a DamagedFileError (exit 2) naming the file, the line and column where it breaks, and what to
// do. The file's own text is never repeated in the message (it may hold anything).
import { readFileSync } from "node:fs";
import { UserError } from "./errors.js";

/** A file sdfn wrote that no longer reads as what it was: its path, where it breaks, and the fix. Exit code 2. */
export class DamagedFileError extends UserError {}

/** The parsed JSON of `file`; a damaged file throws DamagedFileError ending with `fix`. */
export function readJsonFile(file: string, fix: string): unknown {
  const text = readFileSync(file, "utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DamagedFileError(`${file}${jsonErrorPlace(text, (err as Error).message)}; ${fix}`);
  }
}

/** `:LINE:COL: not valid JSON: WHY` from V8's message, without the snippet of the text it may quote. */
export function jsonErrorPlace(text: string, message: string): string {
  const at = /at position (\d+)/.exec(message);
  const offset = at ? Number(at[1]) : /Unexpected end of JSON input/.test(message) ? text.length : undefined;
  const why = message
    .replace(/, ".*" is not valid JSON$/s, "")
    .replace(/ in JSON at position \d+$| at position \d+$/, "")
    .replace(/^Unexpected end of JSON input$/, "it ends early");
  const cutOff = offset !== undefined && offset >= text.trimEnd().length ? " (the file is cut off: a full disk or a killed writer?)" : "";
  if (offset === undefined) return `: not valid JSON: ${why}`;
  const before = text.slice(0, offset).split("\n");
  return `:${before.length}:${before.at(-1)!.length + 1}: not valid JSON: ${why}${cutOff}`;
}
