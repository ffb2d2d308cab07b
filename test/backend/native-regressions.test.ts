// Native kernels that once broke the process rather than a result: run in a child process, so
// that heap corruption shows as its exit status.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

import { missing, ROOT } from "../support/requires.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe.skipIf(missing("addon"))("native kernels in a child process", () => {
  it("the filter gradient of a strided 1x1 convolution is right and leaves the heap intact", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", fixture("pointwise-filter-grad.ts")], { cwd: ROOT, encoding: "utf8" });
    expect(run.signal ?? run.status, run.stderr.slice(-2000)).toBe(0);
    const { worst } = JSON.parse(run.stdout.trim().split("\n").pop()!) as { worst: number };
    expect(worst).toBeLessThan(1e-4);
  }, 120_000);
});
