#!/usr/bin/env node
// `npm run bench`: sizes libuv's pool (threads.js), registers tsx so the TypeScript sources
// load directly, then runs bench/run.ts.
require("./threads.js");

(async () => {
  const { register } = await import("tsx/esm/api");
  register();
  const { main } = await import("../bench/run.ts");
  process.exitCode = await main(process.argv.slice(2));
})();
