// The sweep's plan: grid parsing, variants × seeds in run order, directory names, and
// the state of a run directory (finished / resumable / new).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseGrid, planDifference, planSweep, runState, SweepError } from "../../src/sweep/plan.js";

const work = mkdtempSync(join(tmpdir(), "sdfn-plan-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("--grid", () => {
  it("parses KEY=[values], keeping brackets and quotes inside a value", () => {
    expect(parseGrid("fusion.router.type=[static,shared,msr]")).toEqual({ key: "fusion.router.type", values: ["static", "shared", "msr"] });
    expect(parseGrid("evaluation.recall_at=[[1,10],[10, 50]]").values).toEqual(["[1,10]", "[10, 50]"]);
    expect(parseGrid("name=['a,b', c]").values).toEqual(["'a,b'", "c"]);
  });

  it.each(["fusion.router.type=static", "=[a]", "k=[a,,b]", "k=[a,a]"])("rejects %s, saying what it expects", (text) => {
    expect(() => parseGrid(text)).toThrow(SweepError);
    expect(() => parseGrid(text)).toThrow(/--grid/);
  });
});

describe("planSweep", () => {
  const recipe = join(work, "base.yaml");
  writeFileSync(recipe, "name: base\n");
  const folder = join(work, "rows");
  mkdirSync(folder);
  for (const f of ["b.yaml", "a.yaml", "notes.txt"]) writeFileSync(join(folder, f), "name: x\n");

  it("runs every grid combination × seed, seeds inside a variant, the seed set last", () => {
    const plan = planSweep(recipe, {
      grid: [parseGrid("fusion.router.type=[static,msr]"), parseGrid("fusion.layers=[1,2]")],
      seeds: [0, 1],
      sets: ["training.epochs=1"],
    });
    expect(plan.runs.map((r) => r.id)).toEqual([
      "type-static_layers-1/seed-0", "type-static_layers-1/seed-1",
      "type-static_layers-2/seed-0", "type-static_layers-2/seed-1",
      "type-msr_layers-1/seed-0", "type-msr_layers-1/seed-1",
      "type-msr_layers-2/seed-0", "type-msr_layers-2/seed-1",
    ]);
    expect(plan.runs[5]!.sets).toEqual(["training.epochs=1", "fusion.router.type=msr", "fusion.layers=1", "seed=1"]);
    expect(plan.runs[5]!.label).toBe("fusion.router.type=msr fusion.layers=1");
  });

  it("a directory gives one variant per *.yaml (sorted), named by the file", () => {
    const plan = planSweep(folder, { grid: [], seeds: [0, 1, 2], sets: [] });
    expect(plan.runs.map((r) => r.id)).toEqual(["a/seed-0", "a/seed-1", "a/seed-2", "b/seed-0", "b/seed-1", "b/seed-2"]);
    expect(plan.runs[3]!.recipe).toBe(join(folder, "b.yaml"));
  });

  it("tells two plans apart", () => {
    const a = planSweep(recipe, { grid: [parseGrid("k=[x,y]")], seeds: [0], sets: [] });
    expect(planDifference(a, planSweep(recipe, { grid: [parseGrid("k=[x,y]")], seeds: [0], sets: [] }))).toBe("");
    expect(planDifference(a, planSweep(recipe, { grid: [parseGrid("k=[x,z]")], seeds: [0], sets: [] }))).toMatch(/k-y\/seed-0/);
  });

  it("rejects a missing source and a folder without recipes", () => {
    expect(() => planSweep(join(work, "nope.yaml"), { grid: [], seeds: [0], sets: [] })).toThrow(/no such recipe file or directory/);
    const empty = join(work, "empty");
    mkdirSync(empty);
    expect(() => planSweep(empty, { grid: [], seeds: [0], sets: [] })).toThrow(/without \*\.yaml/);
  });
});

describe("runState", () => {
  // (resumable — a last checkpoint — is exercised with real checkpoints in sweep-command.test.ts)
  it("finished with a completed (or diverged) summary; without one and without a checkpoint, new", () => {
    const dir = join(work, "run");
    expect(runState(dir)).toBe("new");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "summary.json"), JSON.stringify({ status: "interrupted" }));
    expect(runState(dir)).toBe("new");
    writeFileSync(join(dir, "summary.json"), "{ torn");
    expect(runState(dir)).toBe("new");
    writeFileSync(join(dir, "summary.json"), JSON.stringify({ status: "completed" }));
    expect(runState(dir)).toBe("finished");
    writeFileSync(join(dir, "summary.json"), JSON.stringify({ status: "non-finite-loss" }));
    expect(runState(dir)).toBe("finished"); // it would diverge again
  });
});
