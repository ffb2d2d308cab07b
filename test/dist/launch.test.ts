// `sdfn build --nproc 2` end to end on the quickstart (Gloo over 127.0.0.1): one run directory
// written by rank 0, a log per rank, a stop (SIGINT) that every rank obeys with one checkpoint,
// --resume with the same N finishing the run (replayed steps, the allreduce inside the program) and a clear error with another N; and a killed
// rank that ends the job (exit 1, the rank named, its last lines) with the last checkpoint intact.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readCheckpoint } from "../../src/run/checkpoint.js";
import { RunDir } from "../../src/run/run-dir.js";
import { missing, ROOT } from "../support/requires.js";
import { replayedSteps, sdfn } from "./helpers.js";

const scratch = mkdtempSync(join(tmpdir(), "sdfn-dist-launch-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const quickstart = join(ROOT, "recipes", "quickstart.yaml");
// 256 pairs = 8 global steps of 2 × 16 per epoch; a small evaluation.
const small = ["--set", "data.train_pairs=256", "--set", "data.test_queries=64", "--set", "training.batch_size=16", "--set", "training.eval_every=1"];

/** Resolves when `run` has a "last" checkpoint (polling), or rejects after `seconds`. */
async function checkpointed(run: string, seconds: number): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (!new RunDir(run).hasCheckpoint("last")) {
    if (Date.now() > until) throw new Error(`${run} has no checkpoint after ${seconds} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The pid of the worker of `supervisor` with RANK=rank (read from /proc). */
function workerPid(supervisor: number, rank: number): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (env.includes(`SDFN_DIST_SUPERVISOR=${supervisor}`) && env.includes(`RANK=${rank}`)) return Number(entry);
    } catch {
      // a process that ended meanwhile, or not ours
    }
  }
  throw new Error(`no rank ${rank} under supervisor ${supervisor}`);
}

const summaryOf = (run: string) => JSON.parse(readFileSync(join(run, "summary.json"), "utf8")) as Record<string, unknown>;

describe.skipIf(missing("addon", "distributed"))("sdfn build --nproc 2", () => {
  it("trains one run directory, stops on SIGINT with a checkpoint, resumes with the same N only", async () => {
    const run = join(scratch, "quick");
    let supervisor = 0;
    const first = sdfn(["build", quickstart, "--backend", "torch", "--nproc", "2", "--out", run, "--log", "plain", "--set", "training.epochs=2", ...small], {
      onSpawn: (pid) => (supervisor = pid),
    });
    await checkpointed(run, 300); // end of epoch 1
    process.kill(supervisor, "SIGINT"); // forwarded to rank 0, agreed by both ranks
    const a = await first;
    expect(a.code, a.stderr).toBe(0);
    expect(summaryOf(run).status).toBe("interrupted");
    const stopped = readCheckpoint(run, "last", false).meta;
    expect(stopped.world).toBe(2);

    // Rank 0 alone wrote the run directory; each rank has its log.
    const rank1 = readFileSync(join(run, "logs", "rank-1.log"), "utf8");
    expect(rank1).toMatch(/step/);
    expect(readFileSync(join(run, "logs", "rank-0.log"), "utf8")).toMatch(/checkpoint/);
    const starts = readFileSync(join(run, "metrics.jsonl"), "utf8").split("\n").filter((l) => l.includes('"type":"start"'));
    expect(starts).toHaveLength(1);
    expect(JSON.parse(starts[0]!).info.world).toBe(2);

    const other = await sdfn(["build", "--resume", run, "--nproc", "1"]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/trained with 2 process\(es\).*--nproc 2/);

    const b = await sdfn(["build", "--resume", run, "--nproc", "2", "--log", "plain"]);
    expect(b.code, b.stderr).toBe(0);
    const done = summaryOf(run);
    expect(done).toMatchObject({ status: "completed", epochs: 2, steps: 16 });
    // the resumed epoch replayed its steps too (a fresh process records its programs anew)
    const log = readFileSync(join(run, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const resumedEpoch = log.filter((e) => e.type === "epoch").at(-1)!;
    expect(replayedSteps([resumedEpoch])).toBeGreaterThan(0);
    expect(existsSync(join(run, "report.html"))).toBe(true);
  }, 420_000); // child processes: ~20 s of startup each on a loaded 2-core machine

  it("ends the job when a rank is killed: exit 1, the rank named with its last lines, the last checkpoint loadable", async () => {
    const run = join(scratch, "killed");
    let supervisor = 0;
    const job = sdfn(["build", quickstart, "--backend", "torch", "--nproc", "2", "--out", run, "--log", "plain", "--set", "training.epochs=20", ...small], {
      onSpawn: (pid) => (supervisor = pid),
    });
    await checkpointed(run, 300);
    const killedAt = Date.now();
    process.kill(workerPid(supervisor, 1), "SIGKILL");
    const r = await job;
    expect(r.code).toBe(1);
    expect((Date.now() - killedAt) / 1000).toBeLessThan(60);
    expect(r.stderr).toMatch(/rank 1 of 2 was killed by SIGKILL/);
    expect(r.stderr).toMatch(/last lines of .*rank-1\.log:\n {4}\S/);
    const last = readCheckpoint(run, "last");
    expect(last.meta.world).toBe(2);
    expect(Object.keys(last.weights).length).toBeGreaterThan(10);
  }, 420_000); // child processes: ~20 s of startup each on a loaded 2-core machine
});
