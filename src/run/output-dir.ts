// A directory sdfn writes whole for the user (a catalogue index, an index export, an ONNX export):
// written as a checkpoint unit is (checkpoint-unit.ts: a temporary directory with a manifest of
// SHA-256s, then renamed over the old one), and only over an empty directory or one sdfn wrote
// before of the same kind — never over the user's own files.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UserError } from "../util/errors.js";
import { writeUnit } from "./checkpoint-unit.js";

/** An output directory that cannot be written as asked: exit 2, naming it. */
export class OutputDirError extends UserError {}

/** What sdfn writes into such a directory: the file that marks it as sdfn's, and that file's "format". */
export interface DirectoryKind {
  marker: string;
  format: string;
}

/** Refuses `dir` unless it is absent, empty, or an earlier directory of the same kind. */
export function checkReplaceable(dir: string, kind: DirectoryKind, flag = "--out"): void {
  const root = resolve(dir);
  if (!existsSync(root)) return;
  if (!statSync(root).isDirectory()) throw new OutputDirError(`${flag} ${dir}: ${root} is a file; give a directory to write`);
  if (readdirSync(root).length === 0) return;
  let found: unknown;
  try {
    found = JSON.parse(readFileSync(join(root, kind.marker), "utf8"));
  } catch {
    found = undefined;
  }
  if ((found as { format?: unknown } | undefined)?.format !== kind.format) {
    throw new OutputDirError(`${flag} ${dir}: ${root} holds other files (it is not an ${kind.format} sdfn wrote), and sdfn replaces a directory whole; give a new or empty directory`);
  }
}

/** Writes `dir` whole: `write` fills a temporary directory, which then replaces `dir` (the old one goes only then). */
export async function writeDirectory(dir: string, kind: DirectoryKind, write: (tmp: string) => void | Promise<void>): Promise<void> {
  const root = resolve(dir);
  checkReplaceable(root, kind);
  await writeUnit(dirname(root), basename(root), async (tmp) => write(tmp));
  // the unit writer keeps the replaced unit as DIR.prev (a checkpoint's fallback); these have none
  rmSync(`${root}.prev`, { recursive: true, force: true });
}
