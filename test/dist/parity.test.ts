// Data-parallel training equals single-process training: 2 processes × batch 4 (Gloo over
// 127.0.0.1) against 1 process × batch 8, same seed, a network without batch norm and a loss
// that is a mean over samples: the weights agree to 1e-5 after 10 steps, and the sharded
// evaluation of the 2-process run gives exactly the metrics one process computes from its checkpoint.
// Both runs replay their steps (training.compile auto), the 2-process program with its allreduce.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readCheckpoint } from "../../src/run/checkpoint.js";
import { missing } from "../support/requires.js";
import { replayedSteps, sdfn, writeRecipe } from "./helpers.js";

const scratch = mkdtempSync(join(tmpdir(), "sdfn-dist-parity-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const events = (run: string) =>
  readFileSync(join(run, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

describe.skipIf(missing("addon", "distributed"))("2 processes × b = 1 process × 2b", () => {
  it("gives the same weights after 10 steps and identical evaluation metrics", async () => {
    const two = join(scratch, "two");
    const one = join(scratch, "one");
    const [a, b] = await Promise.all([
      sdfn(["build", writeRecipe(scratch, { batch: 4 }), "--nproc", "2", "--out", two, "--log", "plain"]),
      sdfn(["build", writeRecipe(scratch, { batch: 8 }), "--out", one, "--log", "plain"]),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    for (const run of [two, one]) expect(JSON.parse(readFileSync(join(run, "summary.json"), "utf8")).steps).toBe(10);

    const wa = readCheckpoint(two, "last", false).weights;
    const wb = readCheckpoint(one, "last", false).weights;
    expect(Object.keys(wa).sort()).toEqual(Object.keys(wb).sort());
    let worst = 0;
    let moved = 0;
    for (const [name, t] of Object.entries(wa)) {
      const u = wb[name]!;
      for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(t.data[i]! - u.data[i]!));
      moved += t.data.length;
    }
    expect(moved).toBeGreaterThan(1000);
    // …and training moved them: the loss fell over the 10 steps (so equal weights are not just the initial ones).
    const totals = events(one).filter((e) => e.type === "step").map((e) => e.total as number);
    expect(totals[totals.length - 1]!).toBeLessThan(totals[0]!);
    expect(worst).toBeLessThan(1e-5);
    // Both ran replayed steps (training.compile auto): the 2-process program carries the allreduce.
    for (const run of [two, one]) expect(replayedSteps(events(run))).toBeGreaterThan(0);

    // The 2-process run's own (sharded, gathered) evaluation = one process evaluating its checkpoint.
    const sharded = events(two).find((e) => e.type === "evaluation")!.metrics as Record<string, number>;
    const single = await sdfn(["eval", two, "--checkpoint", "last", "--json"]);
    expect(single.code, single.stderr).toBe(0);
    expect((JSON.parse(single.stdout) as { metrics: unknown }).metrics).toEqual(sharded);
    expect(Object.keys(sharded).length).toBeGreaterThan(2);
  }, 420_000); // child processes: ~20 s of startup each on a loaded 2-core machine
});
