#!/usr/bin/env node
// `npm run bench` (a checkout only): sizes libuv's pool (threads.js), registers tsx with sdfn's own
// tsconfig.json so the TypeScript sources load directly from any working directory, then runs bench/run.ts.
require("./threads.js");
const { join } = require("node:path");

(async () => {
  const { register } = await import("tsx/esm/api");
  register({ tsconfig: join(__dirname, "..", "tsconfig.json") });
  const { main } = await import("../bench/run.ts");
  process.exitCode = await main(process.argv.slice(2));
})();
