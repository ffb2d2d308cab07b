// `npm run build` (and npm's prepare step: `npm install` in a checkout, `npm pack`, a git
// dependency): compiles src/ into dist/ — JavaScript and .d.ts, JSX already turned into calls — so
// an installed sdfn runs and imports with plain Node, whatever the user's tsconfig says. The files
// src/ holds beside its TypeScript (a .mjs module, its .d.mts, a JSON table) are copied as they are.
// The build goes to a temporary folder that replaces dist/ only when complete.
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const src = join(root, "src");
const dist = join(root, "dist");
const building = join(root, `dist.tmp-${process.pid}`);

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
rmSync(building, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", building], { cwd: root, stdio: "inherit" });
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || /\.tsx?$/.test(entry.name)) continue;
    const from = join(entry.parentPath, entry.name);
    cpSync(from, join(building, relative(src, from)));
  }
  rmSync(dist, { recursive: true, force: true });
  renameSync(building, dist);
} catch (err) {
  rmSync(building, { recursive: true, force: true });
  process.stderr.write(`build: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}\n`);
  process.exit(1);
}
