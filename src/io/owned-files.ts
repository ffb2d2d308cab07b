// The files sdfn owns (a run directory's, a sweep's) are written one way, never through a
// symbolic link: a whole file goes to a temporary name beside it and is renamed over it (a link
// there is replaced, never followed; a crash leaves the old file or the new one, never half); an
// append opens with O_NOFOLLOW and refuses a link; a folder sdfn fills must not be a link.
// Temporary names end in `.tmp-PID`, so the next writer can remove a killed writer's leftovers.
import { closeSync, constants, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IoError, withPath } from "./io-error.js";

const LINK = "it is a symbolic link, and sdfn never writes its files through one; remove the link";

/** The temporary name `path` is written under before it replaces `path`. */
export const tempPath = (path: string, pid = process.pid): string => `${path}.tmp-${pid}`;

/** The PID in a temporary name (`NAME.tmp-PID`), or undefined for any other name. */
export function tempOwner(name: string): number | undefined {
  const m = /\.tmp-(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

const linkError = (path: string, action: string) => new IoError(path, action, undefined, new Error(LINK));

/** Writes `data` to `path` whole: a temporary file (synced), then a rename over `path`. */
export function replaceFile(path: string, data: string | Uint8Array): void {
  const tmp = tempPath(path);
  withPath(tmp, "write", () => {
    rmSync(tmp, { force: true }); // this PID's own leftover (a reused PID); a link there goes, unfollowed
    const fd = openSync(tmp, "wx"); // O_EXCL: never through a link
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
  try {
    withPath(path, "write", () => renameSync(tmp, path));
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Appends `data` to `path` (created when absent); a symbolic link at `path` is refused. */
export function appendToFile(path: string, data: string | Uint8Array): void {
  const fd = openForAppend(path);
  try {
    withPath(path, "append to", () => writeFileSync(fd, data));
  } finally {
    closeSync(fd);
  }
}

/** A descriptor appending to `path` (created when absent), refusing a symbolic link; the caller closes it. */
export function openForAppend(path: string): number {
  try {
    return withPath(path, "append to", () => openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644));
  } catch (err) {
    if (err instanceof IoError && err.code === "ELOOP") throw linkError(path, "append to");
    throw err;
  }
}

/** Creates the folder `dir` (and its parents) unless it is there; a symbolic link there is refused. */
export function ownedDir(dir: string): string {
  withPath(dir, "create the directory", () => mkdirSync(dir, { recursive: true }));
  if (lstatSync(dir).isSymbolicLink()) throw linkError(dir, "write into");
  return dir;
}

/** The entries of `dir` that are symbolic links (names), for refusing a directory before writing it. */
export function linksIn(dir: string, names: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isSymbolicLink() && names(e.name))
    .map((e) => e.name);
}

/** The process runs (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the `*.tmp-PID` files and folders in `dir` that a dead writer left (a killed process, or
 * this one earlier: the caller holds the directory, so none of its own writes is under way).
 * Returns the names removed.
 */
export function removeStaleTemps(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const pid = tempOwner(name);
    if (pid === undefined || (pid !== process.pid && processAlive(pid))) continue;
    withPath(join(dir, name), "remove", () => rmSync(join(dir, name), { recursive: true, force: true }));
    removed.push(name);
  }
  return removed;
}
