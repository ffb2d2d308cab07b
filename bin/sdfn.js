#!/usr/bin/env node
// Entry point: sizes libuv's pool (threads.js), registers tsx (it loads .ts plugins), then runs the CLI:
// - an installed package ships compiled JavaScript (dist/, built by `npm run build`: npm's prepare
//   step), which runs as it is whatever the working directory's tsconfig says;
// - a checkout runs its TypeScript sources (src/ is there), compiled by tsx with sdfn's own
//   tsconfig.json (JSX settings included), so an edit is live and no dist/ can be stale.
require("./threads.js");
const { existsSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..");
const checkout = existsSync(join(root, "src", "cli", "main.ts"));

(async () => {
  const { register } = await import("tsx/esm/api");
  register(checkout ? { tsconfig: join(root, "tsconfig.json") } : {});
  const { main } = await import(checkout ? "../src/cli/main.ts" : "../dist/cli/main.js");
  process.exitCode = await main(process.argv.slice(2));
})();
