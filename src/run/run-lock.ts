// Claiming a run directory before anything trains: a new run refuses a directory that already
// holds files (it would overwrite checkpoints and mix metrics), a second writer is refused with
// the holder's PID (RUN_DIR/sdfn.lock, created exclusively; a dead holder's lock is taken over),
// and the probe write of the lock finds a read-only or full disk before hours of training.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { IoError, withPath } from "../io/io-error.js";
import { UserError } from "../util/errors.js";
import { RUN_FILES } from "./run-dir.js";

/** A run directory that cannot be claimed: in use, not empty, or not writable. Exit code 2. */
export class RunDirError extends UserError {}

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

export interface RunClaim {
  /** Removes the lock (and the directory, when this claim created it and nothing else was written). */
  release(): void;
}

/** Claims `dir` (absolute) for writing: `resume` continues a run there, else it must be new or empty. */
export function claimRunDir(dir: string, opts: { resume: boolean }): RunClaim {
  const existed = existsSync(dir);
  if (existed && !opts.resume) {
    const files = readdirSync(dir).filter((f) => f !== "logs"); // `--nproc` opens its workers' logs/ before they start
    if (files.length > 0) {
      throw new RunDirError(
        `${dir} already holds a run (${files.slice(0, 4).join(", ")}${files.length > 4 ? ", …" : ""}); ` +
          `give a new --out DIR, or continue it with --resume ${dir}`,
      );
    }
  }
  try {
    withPath(dir, "create the run directory", () => mkdirSync(dir, { recursive: true }));
    takeLock(join(dir, RUN_FILES.lock));
  } catch (err) {
    if (err instanceof IoError) throw new RunDirError(`${err.message}; choose an output directory that can be written (--out DIR)`);
    throw err;
  }
  const lock = join(dir, RUN_FILES.lock);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    rmSync(lock, { force: true });
    if (!existed && readdirSync(dir).length === 0) rmdirSync(dir);
  };
  process.on("exit", release); // a Ctrl-C or SIGTERM exit still frees the directory
  return { release };
}

/** Creates `lock` exclusively with this process's PID; refuses a live holder, takes over a dead one's. */
function takeLock(lock: string): void {
  const mine: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, `${JSON.stringify(mine)}\n`, { flag: "wx" });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new IoError(lock, "write the lock file", (err as NodeJS.ErrnoException).code, err);
    }
    const holder = readLock(lock);
    if (holder && isAlive(holder)) {
      throw new RunDirError(
        `${lock}: the run directory is being written by process ${holder.pid}${holder.host !== mine.host ? ` on ${holder.host}` : ""} ` +
          `(since ${holder.since}); wait for it to finish or stop it, or give another --out DIR`,
      );
    }
    rmSync(lock, { force: true }); // its holder is gone (killed): the lock is stale
  }
  throw new RunDirError(`${lock}: another process keeps taking the lock; give another --out DIR`);
}

function readLock(lock: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(lock, "utf8")) as LockInfo;
  } catch {
    return undefined; // torn or foreign: treated as stale
  }
}

/** The holder runs (on another host we cannot tell, so it counts as running). */
function isAlive(holder: LockInfo): boolean {
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
