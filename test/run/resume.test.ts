// Continuing a run, checked in one place (src/run/resume.ts): the recipe and the process count a
// checkpoint may be continued with, and a directory without a checkpoint (nothing to continue).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { resumableCheckpoint, resumableMeta, resumeProblem } from "../../src/run/resume.js";

const scratch = mkdtempSync(join(tmpdir(), "sdfn-resume-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("resuming a run", () => {
  const saved = { recipeHash: "a".repeat(64), world: 2 };

  it("needs the recipe it was trained with, and as many processes", () => {
    expect(resumeProblem(saved, { recipeHash: "a".repeat(64), world: 2 }, "/runs/x")).toBeNull();
    expect(resumeProblem(saved, { recipeHash: "b".repeat(64), world: 2 }, "/runs/x")).toBe(
      "/runs/x: the run was trained with a different recipe (hash aaaaaaaaaaaa…, this one bbbbbbbbbbbb…); " +
        "give the same recipe and --set/--plugin options (`sdfn build --resume /runs/x` alone uses the run's own), or start a new run",
    );
    expect(resumeProblem(saved, { recipeHash: "a".repeat(64), world: 1 }, "/runs/x")).toMatch(
      /^\/runs\/x: the run was trained with 2 process\(es\), this job has 1; resume it with --nproc 2 \(or WORLD_SIZE=2\)/,
    );
    // a checkpoint from before data-parallel runs was written by one process
    expect(resumeProblem({ recipeHash: saved.recipeHash }, { recipeHash: saved.recipeHash, world: 1 }, "/runs/x")).toBeNull();
  });

  it("finds nothing to continue in a directory without a checkpoint (the run starts afresh there)", () => {
    const job = { recipeHash: saved.recipeHash, world: 1 };
    expect(resumableMeta(scratch, job)).toBeUndefined();
    expect(resumableCheckpoint(scratch, job)).toBeNull();
  });
});
