// `--nproc N` on one machine: a supervisor that starts N worker processes with the torchrun-style
// environment (rendezvous on a free loopback port), keeps rank 0 on the terminal and the others
// in RUN_DIR/logs/rank-K.log, and ends the whole job as soon as one rank fails, naming it and
// showing its last log lines. The supervisor itself loads no tensors.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { appendToFile, openForAppend, ownedDir } from "../io/owned-files.js";
import { workerEnv, type DistEnv } from "./env.js";

/** RUN_DIR/logs/rank-K.log. */
export const rankLog = (runDir: string, rank: number) => join(runDir, "logs", `rank-${rank}.log`);

/** The environment variable a worker finds its supervisor's pid in (it exits when orphaned). */
export const SUPERVISOR_ENV = "SDFN_DIST_SUPERVISOR";

export interface LaunchOptions {
  nproc: number;
  /** Arguments of every worker's command line after the script (e.g. ["build", RECIPE, "--out", DIR]). */
  args: string[];
  runDir: string;
  /** The script the workers run (default: this process's, bin/sdfn.js). */
  script?: string;
  /** Seconds a rank may take to exit after the others were told to stop (default 10). */
  graceS?: number;
  /** Where the failure report goes (default process.stderr). */
  stderr?: NodeJS.WritableStream;
}

/** A free TCP port on the loopback interface (the rendezvous port of a one-machine job). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The last `n` lines of a rank's log ("(no log)" when it wrote none). */
export function lastLines(file: string, n = 15): string[] {
  if (!existsSync(file)) return ["(no log)"];
  const lines = readFileSync(file, "utf8").replace(/\n+$/, "").split("\n");
  return lines.slice(-n);
}

interface Exit {
  rank: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

const describeExit = (e: Exit) => (e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`);

/** Starts the workers and waits for them; resolves with the job's exit code. */
export async function launchWorkers(opts: LaunchOptions): Promise<number> {
  const stderr = opts.stderr ?? process.stderr;
  ownedDir(join(opts.runDir, "logs")); // never through a link
  const base: DistEnv = { rank: 0, world: opts.nproc, localRank: 0, masterAddr: "127.0.0.1", masterPort: await freePort() };
  // Rank 0 keeps the terminal (the dashboard reads q from it) unless there is none; every other
  // rank runs in its own process group, so a Ctrl-C at the terminal reaches rank 0 alone.
  const rank0Attached = Boolean(process.stdin.isTTY);
  const children: ChildProcess[] = [];
  const exits: Promise<Exit>[] = [];
  for (let rank = 0; rank < opts.nproc; rank++) {
    const log = rankLog(opts.runDir, rank);
    const fd = rank === 0 ? -1 : openForAppend(log);
    const child = spawn(process.execPath, [...process.execArgv, opts.script ?? process.argv[1]!, ...opts.args], {
      env: { ...process.env, ...workerEnv(base, rank), [SUPERVISOR_ENV]: String(process.pid) },
      stdio: rank === 0 ? ["inherit", "inherit", "pipe"] : ["ignore", fd, fd],
      detached: rank > 0 || !rank0Attached,
    });
    if (fd >= 0) closeSync(fd);
    // Rank 0's stderr reaches the terminal and its log (a crash there is named like any other).
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr.write(chunk);
      appendToFile(log, chunk);
    });
    children.push(child);
    exits.push(new Promise((resolve) => child.on("exit", (code, signal) => resolve({ rank, code, signal }))));
  }
  const forward = (signal: NodeJS.Signals) => () => {
    if (!rank0Attached || signal !== "SIGINT") children[0]!.kill(signal); // an attached rank 0 got the terminal's own
  };
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    return await supervise(children, exits, opts, stderr);
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}

function supervise(children: ChildProcess[], exits: Promise<Exit>[], opts: LaunchOptions, stderr: NodeJS.WritableStream): Promise<number> {
  return new Promise((resolve) => {
    const done: Exit[] = [];
    const running = new Set(children.keys());
    let failure: Exit | undefined;
    let blameTimer: NodeJS.Timeout | undefined;
    let stopTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stopAll = () => {
      for (const rank of running) children[rank]!.kill("SIGTERM");
      killTimer ??= setTimeout(() => {
        for (const rank of running) children[rank]!.kill("SIGKILL");
      }, (opts.graceS ?? 10) * 1000);
    };
    // A killed rank's peers fail right after it (their collective lost its peer): blame the
    // rank that was killed, not the first one to notice.
    const blame = () => {
      failure ??= done.find((e) => e.signal !== null) ?? done.find((e) => e.code !== 0);
      stopAll();
    };
    const finish = () => {
      for (const t of [blameTimer, stopTimer, killTimer]) if (t) clearTimeout(t);
      if (blameTimer && !failure) failure = done.find((e) => e.signal !== null) ?? done.find((e) => e.code !== 0);
      resolve(failure ? report(failure, done, opts, stderr) : 0);
    };
    for (const exit of exits) {
      void exit.then((e) => {
        done.push(e);
        running.delete(e.rank);
        if (e.code !== 0 && !blameTimer) blameTimer = setTimeout(blame, 500);
        // Rank 0 finished: the others are past their last collective and exit on their own, or are stopped.
        if (e.code === 0 && e.rank === 0 && !stopTimer) stopTimer = setTimeout(stopAll, (opts.graceS ?? 10) * 1000);
        if (running.size === 0) finish();
      });
    }
  });
}

/** Writes the failure report; the job's exit code (130 for a second Ctrl-C on rank 0, else 1). */
function report(failure: Exit, done: Exit[], opts: LaunchOptions, stderr: NodeJS.WritableStream): number {
  if (failure.rank === 0 && failure.code === 130) return 130;
  const log = rankLog(opts.runDir, failure.rank);
  const lines = [`error: rank ${failure.rank} of ${opts.nproc} ${describeExit(failure)}; the job was stopped.`];
  lines.push(`  last lines of ${log}:`, ...lastLines(log).map((l) => `    ${l}`));
  const others = done.filter((e) => e.rank !== failure.rank && e.code !== 0).map((e) => `rank ${e.rank} ${describeExit(e)}`);
  if (others.length) lines.push(`  then: ${others.join("; ")}`);
  lines.push(`  the last checkpoint (if any) is in ${join(opts.runDir, "checkpoints")}; resume it with the same --nproc ${opts.nproc}`);
  stderr.write(`${lines.join("\n")}\n`);
  return 1;
}

/** In a worker: exit when the supervisor is gone (so no rank outlives a killed job). */
export function watchSupervisor(env: NodeJS.ProcessEnv = process.env): void {
  const pid = Number(env[SUPERVISOR_ENV]);
  if (!pid) return;
  setInterval(() => {
    if (process.ppid !== pid) {
      process.stderr.write(`sdfn: the supervisor (pid ${pid}) is gone; rank ${env.RANK} exits\n`);
      process.exit(1);
    }
  }, 1000).unref();
}
