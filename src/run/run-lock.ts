// Claiming a run directory before anything trains: a second writer is refused with the holder's
// PID (RUN_DIR/sdfn.lock, created exclusively; a dead holder's lock is taken over), the probe
// write of the lock finds a read-only or full disk before hours of training, a killed writer's
// `*.tmp-PID` leftovers are removed, and what the directory holds decides what may start there:
// - nothing of a run (absent, empty, a stale lock): a new run;
// - a run with a checkpoint: only `--resume` continues it (a new run would overwrite it);
// - a run that stopped before its first checkpoint (kill -9, a full disk, a bad image met in
//   training): there is nothing to continue, so `--resume` starts it afresh, and so does a new run
//   of the same recipe (seed included); another recipe's is refused, never overwritten;
// - files that are not sdfn's, or files sdfn writes that are symbolic links: refused.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { IoError, withPath } from "../io/io-error.js";
import { linksIn, processAlive, removeStaleTemps, tempOwner } from "../io/owned-files.js";
import { resolvedRecipeHash } from "../recipe/index.js";
import { isRunFile, RUN_FILES, RunDir, RunDirError } from "./run-dir.js";

export { RunDirError } from "./run-dir.js";

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

export interface ClaimOptions {
  /** The user asked to continue the run there (`--resume`). */
  resume: boolean;
  /** The recipe about to run (loaded.hash): a run of the same one that stopped before its first checkpoint is started afresh. */
  recipeHash: string;
}

export interface RunClaim {
  /** Set when the directory holds a run that stopped before its first checkpoint and starts afresh: the one line that says so. */
  restart?: string;
  /** Removes that run's files (the caller calls it once the new run's data and network exist, just before writing). */
  clearEarlyRun(): void;
  /** Removes the lock (and the directory, when this claim created it and nothing else was written). */
  release(): void;
}

/** Claims `dir` (absolute) for writing a run of the recipe `opts.recipeHash`; throws RunDirError saying what to do instead. */
export function claimRunDir(dir: string, opts: ClaimOptions): RunClaim {
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new RunDirError(`${dir} is a file, not a directory; give a directory for the run (--out DIR: a new one, or an empty one)`);
  }
  const existed = existsSync(dir);
  const lock = join(dir, RUN_FILES.lock);
  try {
    withPath(dir, "create the run directory", () => mkdirSync(dir, { recursive: true })); // the directory itself may be a link the user made
    takeLock(lock);
  } catch (err) {
    if (err instanceof IoError) throw new RunDirError(`${err.message}; choose an output directory that can be written (--out DIR)`);
    throw err;
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    rmSync(lock, { force: true });
    if (!existed && existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
  };
  process.on("exit", release); // a Ctrl-C or SIGTERM exit still frees the directory
  try {
    removeStaleTemps(dir);
    removeStaleTemps(new RunDir(dir).checkpoints);
    const restart = decide(dir, opts);
    return { restart, clearEarlyRun: () => (restart ? clearRun(dir) : undefined), release };
  } catch (err) {
    release();
    throw err;
  }
}

/** What starts in `dir`: undefined for a new run or a resume from its checkpoint, the line for an afresh start; throws when neither may. */
function decide(dir: string, opts: ClaimOptions): string | undefined {
  const names = readdirSync(dir).filter((n) => n !== RUN_FILES.lock && tempOwner(n) === undefined); // a live writer's temporary files are its own
  const links = linksIn(dir, isRunFile).concat(linksIn(new RunDir(dir).checkpoints, () => true).map((n) => `checkpoints/${n}`));
  if (links.length) {
    throw new RunDirError(
      `${dir}: ${links.join(", ")} ${links.length > 1 ? "are symbolic links" : "is a symbolic link"}; sdfn writes a run directory's files itself, never through a link: remove ${links.length > 1 ? "them" : "it"}`,
    );
  }
  const foreign = names.filter((n) => !isRunFile(n));
  // `--nproc` opens its workers' logs/ before they start; an empty checkpoints/ holds nothing of a run.
  const empty = (name: string) => statSync(join(dir, name)).isDirectory() && readdirSync(join(dir, name)).length === 0;
  const ours = names.filter((n) => isRunFile(n) && n !== "logs" && !(n === RUN_FILES.checkpoints && empty(n)));
  const listed = (list: string[]) => `${list.slice(0, 4).join(", ")}${list.length > 4 ? ", …" : ""}`;
  const hasCheckpoint = new RunDir(dir).hasCheckpoint("last");
  if (opts.resume && hasCheckpoint) return undefined;
  if (hasCheckpoint) {
    throw new RunDirError(`${dir} already holds a run (${listed(names)}); give a new --out DIR, or continue it with --resume ${dir}`);
  }
  if (!opts.resume && foreign.length) {
    throw new RunDirError(`${dir} is not empty (${listed(foreign)}) and holds no sdfn run; give a new or an empty --out DIR`);
  }
  if (ours.length === 0) return opts.resume ? `starting afresh in ${dir}: it holds no run yet` : undefined;
  // A run that stopped before its first checkpoint: nothing to continue from.
  const recipe = new RunDir(dir).recipe;
  const hash = existsSync(recipe) ? resolvedRecipeHash(readFileSync(recipe, "utf8")) : undefined;
  if (hash !== undefined && hash !== opts.recipeHash) {
    throw new RunDirError(
      `${dir} holds a run of another recipe (${RUN_FILES.recipe}) that stopped before its first checkpoint; ` +
        `give a new --out DIR, or start that recipe afresh there with \`sdfn build --resume ${dir}\``,
    );
  }
  if (hash === undefined && !opts.resume) {
    throw new RunDirError(
      `${dir} holds files of a run that stopped before its first checkpoint (${listed(ours)}) but no readable ${RUN_FILES.recipe} to tell its recipe; ` +
        `give a new --out DIR, or start afresh there with --resume ${dir}`,
    );
  }
  return `starting afresh in ${dir}: it holds a run of this recipe that stopped before its first checkpoint (its files are replaced)`;
}

/** Removes the files sdfn wrote into `dir` (its logs/ and the user's own files stay; so does the lock). */
function clearRun(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!isRunFile(name) || name === RUN_FILES.lock || name === "logs") continue;
    withPath(join(dir, name), "remove", () => rmSync(join(dir, name), { recursive: true, force: true }));
  }
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
  return holder.host !== hostname() || processAlive(holder.pid);
}
