#!/usr/bin/env node
// Entry point: sizes libuv's pool (threads.js), then registers tsx so the TypeScript sources
// (and .ts plugins) load directly.
require("./threads.js");

(async () => {
  const { register } = await import("tsx/esm/api");
  register();
  const { main } = await import("../src/cli/main.ts");
  process.exitCode = await main(process.argv.slice(2));
})();
