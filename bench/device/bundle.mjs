#!/usr/bin/env node
// Builds .gpu/, what the GPU machine needs beside the checkout (it has no node_modules and no
// network): esbuild bundles of the CLI, the step bench, the CUDA parity runner and the data
// bench (one shared set of chunks), CommonJS launchers that size libuv's pool first, sharp's
// packages, and tmux with its libraries in case the machine has none.
//   node bench/device/bundle.mjs [--out .gpu] [--no-sharp] [--no-tmux]
// Bundled modules keep their own paths: import.meta.url/dirname/filename are rewritten to the
// module's place in the checkout (the working directory, or SDFN_ROOT), so files found
// relative to a source file (native/build/sdfn_torch.node, bench/reference/*.py) are found.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { values } = parseArgs({ options: { out: { type: "string", default: ".gpu" }, "no-sharp": { type: "boolean" }, "no-tmux": { type: "boolean" } } });
const out = resolve(ROOT, values.out);

/** Entry name → source; each gets a launcher `<name>.cjs`. `main` entries export main(argv). */
const ENTRIES = {
  sdfn: { src: "src/cli/main.ts", main: true },
  bench: { src: "bench/run.ts", main: true },
  parity: { src: "bench/device/parity.ts", main: false },
  "data-pipeline": { src: "bench/data-pipeline.ts", main: false },
};

// import.meta.* of a bundled module → its source location in the checkout found at run time.
const metaPlugin = {
  name: "checkout-paths",
  setup(b) {
    b.onLoad({ filter: /\.(ts|tsx|js|mjs)$/ }, (args) => {
      if (args.path.includes("node_modules")) return undefined;
      const text = readFileSync(args.path, "utf8");
      if (!/import\.meta\.(url|dirname|filename)\b/.test(text)) return undefined;
      const rel = JSON.stringify(relative(ROOT, args.path));
      const contents = text
        .replace(/import\.meta\.url\b/g, `__sdfnSource(${rel}).url`)
        .replace(/import\.meta\.dirname\b/g, `__sdfnSource(${rel}).dirname`)
        .replace(/import\.meta\.filename\b/g, `__sdfnSource(${rel}).filename`);
      return { contents, loader: args.path.endsWith("x") ? "tsx" : args.path.endsWith(".ts") ? "ts" : "js" };
    });
  },
};

const banner = [
  "import { createRequire as __sdfnCreateRequire } from 'module';",
  "import { dirname as __sdfnDirname, join as __sdfnJoin } from 'path';",
  "import { pathToFileURL as __sdfnToUrl } from 'url';",
  "const require = __sdfnCreateRequire(import.meta.url);",
  "const __sdfnSource = (rel) => { const filename = __sdfnJoin(process.env.SDFN_ROOT || process.cwd(), rel);",
  "  return { filename, dirname: __sdfnDirname(filename), url: __sdfnToUrl(filename).href }; };",
].join("\n");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const started = Date.now();
await build({
  absWorkingDir: ROOT,
  entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, e]) => [name, e.src])),
  outdir: out,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  sourcemap: false,
  logLevel: "warning",
  external: ["sharp", "tsx", "tsx/*", "@tensorflow/tfjs-backend-wasm", "@tensorflow/tfjs-node", "@tensorflow/tfjs-backend-webgpu", "webgpu"],
  alias: {
    // jsonc-parser's "main" is a UMD build whose factory requires ./impl/* at run time, which a
    // bundle cannot follow; its ES module build bundles
    "jsonc-parser": join(ROOT, "node_modules/jsonc-parser/lib/esm/main.js"),
    "react-devtools-core": join(ROOT, "bench/device/stub.mjs"),
    vitest: join(ROOT, "bench/device/expect.ts"),
  },
  banner: { js: banner },
  plugins: [metaPlugin],
});
// The launchers: CommonJS, so UV_THREADPOOL_SIZE is set before libuv's pool starts (bin/threads.js).
cpSync(join(ROOT, "bin/threads.js"), join(out, "threads.cjs"));
for (const [name, e] of Object.entries(ENTRIES)) {
  const body = e.main
    ? `import("./${name}.js").then(async (m) => { process.exitCode = await m.main(process.argv.slice(2)); });`
    : `import("./${name}.js");`;
  writeFileSync(join(out, `${name}.cjs`), `#!/usr/bin/env node\nrequire("./threads.cjs");\n${body}\n`);
}
writeFileSync(join(out, "package.json"), '{ "type": "module" }\n');
if (!values["no-sharp"]) {
  for (const pkg of ["sharp", "@img", "detect-libc", "semver"]) {
    cpSync(join(ROOT, "node_modules", pkg), join(out, "node_modules", pkg), { recursive: true, dereference: true });
  }
}
if (!values["no-tmux"]) copyTmux(join(out, "tmux"));
const size = execFileSync("du", ["-sm", out], { encoding: "utf8" }).split("\t")[0];
process.stdout.write(`bundle: ${relative(ROOT, out)}/ (${size} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

/** tmux and the libraries it links that a bare machine may lack (libevent, libutempter), for LD_LIBRARY_PATH. */
function copyTmux(dir) {
  const tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux"].find((p) => existsSync(p));
  if (!tmux) {
    process.stdout.write("bundle: no tmux here to carry; the device run uses the machine's tmux or a plain pty log\n");
    return;
  }
  mkdirSync(join(dir, "lib"), { recursive: true });
  cpSync(tmux, join(dir, "tmux"));
  const libs = execFileSync("ldd", [tmux], { encoding: "utf8" }).split("\n");
  for (const line of libs) {
    const m = /(lib(?:event|utempter)[^ ]*) => (\S+)/.exec(line);
    if (m && statSync(m[2]).isFile()) cpSync(m[2], join(dir, "lib", m[1]), { dereference: true });
  }
}
