import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    // Ink reads CI when it loads; with CI=true it renders only the last frame (STACK.md).
    env: { CI: "false", TF_CPP_MIN_LOG_LEVEL: "2" },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
  },
});
