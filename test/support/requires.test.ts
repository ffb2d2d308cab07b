// The optional-part helper end to end: a fixture run in its own vitest process with tmux and the
// annotation files hidden skips with one closing line; under SDFN_REQUIRE_ALL=1 the same run fails.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./requires.js";
import { skipLine } from "./skip-reporter.js";

const bin = mkdtempSync(join(tmpdir(), "sdfn-node-only-"));
symlinkSync(process.execPath, join(bin, "node"));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

/** Runs the fixture suite on a PATH holding only node, without the annotation files. */
function runFixture(env: Record<string, string> = {}) {
  const r = spawnSync(
    process.execPath,
    ["node_modules/vitest/vitest.mjs", "run", "--config", "test/support/fixtures/vitest.fixture.config.ts"],
    {
      cwd: ROOT,
      encoding: "utf8",
      // A fresh state folder (not this run's): the fixture's skips must not land in our own closing line.
      env: { ...process.env, SDFN_TEST_STATE: "", SDFN_REQUIRE_ALL: "", PATH: bin, SDFN_SHARED_DATA: "/nonexistent/data", NO_COLOR: "1", ...env },
    },
  );
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe("optional parts", () => {
  it("a missing part skips its tests and the run ends with one line naming it and how to enable it", () => {
    const r = runFixture();
    expect(r.status, r.output).toBe(0);
    const last = r.output.trim().split("\n").at(-1)!;
    expect(last).toMatch(/^skipped 3 tests for missing optional parts — /);
    expect(last).toContain("tmux (2 tests in test/support/fixtures/needs-parts.fixture.ts; enable: sudo scripts/install-system-deps.sh)");
    expect(last).toContain("real annotation files (1 test in test/support/fixtures/needs-parts.fixture.ts; enable: SDFN_SHARED_DATA=DIR");
    expect(r.output).toMatch(/Tests +1 passed \| 3 skipped/);
  });

  it("under SDFN_REQUIRE_ALL=1 a missing part fails the run, naming the part", () => {
    const r = runFixture({ SDFN_REQUIRE_ALL: "1" });
    expect(r.status, r.output).toBe(1);
    expect(r.output).toMatch(/SDFN_REQUIRE_ALL=1 and a part this test needs is missing — tmux: tmux is not on PATH/);
  });

  it("prints nothing when nothing was skipped, and counts a test skipped for two parts once", () => {
    expect(skipLine([], () => [])).toBeUndefined();
    const a = join(ROOT, "test/a.test.ts");
    const skipped: Record<string, string[]> = { [`${a}:3`]: ["t1", "t2"], [`${a}:9`]: ["t2", "t3"] };
    const line = skipLine(
      [
        { part: "addon", file: a, line: 3 },
        { part: "addon", file: a, line: 9 },
        { part: "chromium", file: a, line: 9 },
      ],
      (r) => skipped[`${r.file}:${r.line}`]!,
    );
    expect(line).toBe(
      "skipped 3 tests for missing optional parts — native addon (3 tests in test/a.test.ts; enable: npm run build:native " +
        "(needs libtorch-dev g++: sudo scripts/install-system-deps.sh)); chromium (2 tests in test/a.test.ts; enable: sudo scripts/install-system-deps.sh)",
    );
  });
});
