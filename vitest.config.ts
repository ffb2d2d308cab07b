import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// Probe results and skip records of optional parts (test/support/requires.ts), one folder per run.
process.env.SDFN_TEST_STATE ||= mkdtempSync(join(tmpdir(), "sdfn-test-state-"));

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    // Ink reads CI when it loads; with CI=true it renders only the last frame (STACK.md).
    env: { CI: "false", TF_CPP_MIN_LOG_LEVEL: "2", SDFN_TEST_STATE: process.env.SDFN_TEST_STATE },
    // The last line names what was skipped for a missing optional part and how to enable it.
    reporters: ["default", "./test/support/skip-reporter.ts"],
    includeTaskLocation: true, // the reporter matches a skip to the describe/it on its line
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
  },
});
