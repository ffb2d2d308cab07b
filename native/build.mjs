#!/usr/bin/env node
// `npm run build:native`: compiles the torch backend addon (native/src/*.cc) against libtorch
// with g++ into native/build/sdfn_torch.node. libtorch is looked up in this order:
//   1. LIBTORCH_DIR (an unpacked libtorch: include/ and lib/; CUDA when lib/ has libtorch_cuda.so)
//   2. a PyTorch with CUDA importable by $SDFN_PYTHON, python3 or /usr/bin/python3
//   3. Debian's libtorch-dev (/usr/include/ATen, libtorch.so in the multiarch lib dir)
//   4. a CPU-only PyTorch found as in 2.
// Without libtorch this prints how to get it and exits 0 (installing sdfn never requires it),
// unless SDFN_REQUIRE_NATIVE=1, then it exits 1. Objects are cached by a hash of source and flags.
// native/build/gen/kernel_layouts.h is generated from src/backend/torch/kernels/layouts.json.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The layout table's reader: under src/ in a checkout, under dist/ in an installed package (no src/).
const layoutSpec = ["../src/backend/torch/kernels/layout-spec.mjs", "../dist/backend/torch/kernels/layout-spec.mjs"]
  .map((p) => new URL(p, import.meta.url))
  .find((u) => existsSync(u));
if (!layoutSpec) throw new Error("sdfn: neither src/ nor dist/ holds backend/torch/kernels/layout-spec.mjs; in a checkout run `npm install` first");
const { cppHeader, readLayouts } = await import(layoutSpec.href);

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, "src");
const outDir = join(here, "build");
const target = join(outDir, "sdfn_torch.node");

function fromDir(dir) {
  const lib = join(dir, "lib");
  const cuda = existsSync(join(lib, "libtorch_cuda.so"));
  const versionFile = join(dir, "build-version");
  return {
    source: `LIBTORCH_DIR=${dir}`,
    include: [join(dir, "include"), join(dir, "include", "torch", "csrc", "api", "include")],
    lib: [lib],
    cuda,
    abi: abiOf(join(lib, "libc10.so")),
    version: existsSync(versionFile) ? readFileSync(versionFile, "utf8").trim() : "unknown",
  };
}

// The C++ ABI a libtorch was built with: its symbols mention std::__cxx11 only with the new ABI.
function abiOf(lib) {
  try {
    return readFileSync(lib).includes("__cxx11") ? 1 : 0;
  } catch {
    return 1;
  }
}

function fromPython() {
  const probe = [
    "import json, torch, torch.utils.cpp_extension as c",
    "print(json.dumps({'include': c.include_paths(), 'lib': c.library_paths(), 'cuda': torch.version.cuda is not None,",
    "  'abi': int(torch._C._GLIBCXX_USE_CXX11_ABI), 'version': torch.__version__}))",
  ].join("\n");
  for (const python of [process.env.SDFN_PYTHON, "python3", "/usr/bin/python3"].filter(Boolean)) {
    try {
      const found = JSON.parse(execFileSync(python, ["-c", probe], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
      return { source: `PyTorch of ${python}`, ...found };
    } catch {
      // this interpreter has no torch; try the next
    }
  }
  return undefined;
}

function fromDebian() {
  const libDir = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"].find((d) =>
    existsSync(join(d, "libtorch.so")),
  );
  if (!existsSync("/usr/include/ATen/ATen.h") || !libDir) return undefined;
  let version = "1.13 (Debian libtorch-dev)";
  try {
    version = execFileSync("dpkg-query", ["-W", "-f=${Version}", "libtorch-dev"], { encoding: "utf8" }).trim();
  } catch {
    // not a dpkg system: keep the generic label
  }
  return {
    source: "Debian libtorch-dev",
    include: ["/usr/include", "/usr/include/torch/csrc/api/include"],
    lib: [libDir],
    cuda: existsSync(join(libDir, "libtorch_cuda.so")),
    abi: 1,
    version,
  };
}

function findLibtorch() {
  if (process.env.LIBTORCH_DIR) {
    const dir = resolve(process.env.LIBTORCH_DIR);
    if (!existsSync(join(dir, "include", "ATen", "ATen.h"))) {
      throw new Error(`LIBTORCH_DIR=${dir} has no include/ATen/ATen.h; point it at an unpacked libtorch (the folder holding include/ and lib/)`);
    }
    return fromDir(dir);
  }
  const python = fromPython();
  if (python?.cuda) return python;
  return fromDebian() ?? python;
}

function findNodeHeaders() {
  const candidates = [
    process.env.NODE_API_HEADERS,
    join(here, "..", "node_modules", "node-api-headers", "include"), // devDependency: always there after npm ci
    join(dirname(process.execPath), "..", "include", "node"),
    "/usr/include/node",
    "/usr/local/include/node",
    join(homedir(), ".cache", "node-gyp", process.versions.node, "include", "node"),
  ].filter(Boolean);
  return candidates.find((d) => existsSync(join(d, "node_api.h")));
}

function run(cmd, args) {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { stdio: "inherit" });
    child.on("exit", (code) => (code === 0 ? ok() : fail(new Error(`${cmd} exited with ${code}`))));
    child.on("error", fail);
  });
}

// CUDA libtorch with NCCL: dist.cc adds ProcessGroupNCCL when nccl.h is found (a PyTorch wheel's
// nvidia/nccl package beside torch/, or the system's). Gloo needs no flag (dist.cc checks its headers).
function ncclFlags(t) {
  if (!t.cuda) return [];
  const dirs = [...t.include.map((d) => join(d, "..", "..", "nvidia", "nccl", "include")), "/usr/include", "/usr/local/cuda/include"];
  const dir = dirs.find((d) => existsSync(join(d, "nccl.h")));
  return dir ? ["-DUSE_C10D_NCCL", "-DSDFN_WITH_NCCL", `-I${dir}`] : [];
}

// CUDA libtorch: the CUDA runtime headers (for at::cuda::CUDAGraph, native/src/cuda-graph.cc) from
// $CUDA_HOME / $CUDA_PATH, /usr/local/cuda, or a PyTorch wheel's nvidia/* packages beside torch/.
// Found → -DSDFN_CUDA_GRAPH and the include folders; otherwise cuda-graph.cc compiles to stubs.
function cudaGraphFlags(t) {
  if (!t.cuda) return [];
  const wheels = [...new Set(t.include.map((d) => resolve(d, "..", "..", "nvidia")))].filter((d) => existsSync(d));
  const wheelIncludes = wheels.flatMap((d) => readdirSync(d).map((p) => join(d, p, "include")));
  const toolkits = [process.env.CUDA_HOME, process.env.CUDA_PATH, "/usr/local/cuda"].filter(Boolean).map((d) => join(d, "include"));
  const found = [...toolkits, ...wheelIncludes].filter((d) => existsSync(d));
  if (!found.some((d) => existsSync(join(d, "cuda_runtime_api.h")))) {
    process.stdout.write("  (no CUDA headers found (CUDA_HOME, /usr/local/cuda, nvidia wheels): CUDA graphs are left out)\n");
    return [];
  }
  return ["-DSDFN_CUDA_GRAPH", ...found.map((d) => `-I${d}`)];
}

const absent = (why) => {
  const msg = [
    `sdfn: native torch backend not built: ${why}.`,
    "  To build it, install libtorch and rerun `npm run build:native`:",
    "    Debian/Ubuntu (CPU):  apt-get install libtorch-dev g++",
    "    or a PyTorch:          pip install torch   (CUDA when that build has it)",
    "    or an unpacked libtorch: LIBTORCH_DIR=/path/to/libtorch npm run build:native",
    "  Without it the cpu, wasm (and tfjs-node, webgpu when installed) backends still work.",
  ].join("\n");
  process.stderr.write(`${msg}\n`);
  process.exit(process.env.SDFN_REQUIRE_NATIVE === "1" ? 1 : 0);
};

// A compiler error is printed above by g++; end without a JS stack trace.
function failed(err) {
  process.stderr.write(`sdfn: building the torch backend failed: ${err.message}\n`);
  process.exit(1);
}

let torch;
try {
  torch = findLibtorch();
} catch (err) {
  failed(err);
}
if (!torch) absent("no libtorch found (LIBTORCH_DIR, a python3 with torch, or Debian's libtorch-dev)");
const nodeHeaders = findNodeHeaders();
if (!nodeHeaders) absent("Node's N-API headers (node_api.h) not found; set NODE_API_HEADERS to the folder holding them");

const flags = [
  "-std=c++17", "-O2", "-fPIC", "-Wall", "-Wno-unused-parameter", "-Wno-unused-variable",
  `-D_GLIBCXX_USE_CXX11_ABI=${torch.abi}`,
  `-DSDFN_TORCH_VERSION="${torch.version}${torch.cuda ? " cuda" : ""}"`,
  "-DNODE_GYP_MODULE_NAME=sdfn_torch", "-DBUILDING_NODE_EXTENSION",
  `-I${nodeHeaders}`, ...torch.include.map((d) => `-I${d}`),
  ...ncclFlags(torch),
  ...cudaGraphFlags(torch),
];
const libs = torch.cuda
  ? ["-ltorch", "-ltorch_cuda", "-ltorch_cpu", "-lc10_cuda", "-lc10"]
  : ["-ltorch", "-ltorch_cpu", "-lc10"];
const linkFlags = [
  "-shared", ...torch.lib.map((d) => `-L${d}`), ...torch.lib.map((d) => `-Wl,-rpath,${d}`),
  "-Wl,--no-as-needed", ...libs,
];

process.stdout.write(`sdfn: building the torch backend against ${torch.source} (${torch.version}${torch.cuda ? ", CUDA" : ", CPU"})\n`);
mkdirSync(join(outDir, "obj"), { recursive: true });
// Sources are native/src/*.cc and one level of family folders (native/src/ops/*.cc).
const files = readdirSync(srcDir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? readdirSync(join(srcDir, e.name)).map((f) => join(e.name, f)) : [e.name],
);
// The kernels read their arguments through constants generated from the one layout table.
const genDir = join(outDir, "gen");
mkdirSync(genDir, { recursive: true });
const layoutHeader = cppHeader(readLayouts());
const layoutHeaderPath = join(genDir, "kernel_layouts.h");
if (!existsSync(layoutHeaderPath) || readFileSync(layoutHeaderPath, "utf8") !== layoutHeader) writeFileSync(layoutHeaderPath, layoutHeader);
flags.push(`-I${genDir}`);
const headers = [layoutHeader, ...files.filter((f) => f.endsWith(".h")).map((f) => readFileSync(join(srcDir, f)))];
const sources = files.filter((f) => f.endsWith(".cc"));
const objects = await Promise.all(
  sources.map(async (file) => {
    const hash = createHash("sha256");
    hash.update(flags.join(" "));
    hash.update(readFileSync(join(srcDir, file)));
    for (const h of headers) hash.update(h);
    const obj = join(outDir, "obj", `${file.replace(/\.cc$/, "").replaceAll("/", "-")}-${hash.digest("hex").slice(0, 16)}.o`);
    if (!existsSync(obj)) {
      const started = Date.now();
      const compile = (f) => run("g++", [...f, "-c", join(srcDir, file), "-o", `${obj}.tmp`]);
      await compile(flags)
        .catch((err) => {
          // CUDA graphs are an optimisation: headers that do not fit this libtorch leave them out, not the addon
          if (file !== "cuda-graph.cc" || !flags.includes("-DSDFN_CUDA_GRAPH")) throw err;
          process.stdout.write("  cuda-graph.cc did not compile with CUDA graphs (above); building it without them\n");
          return compile(flags.filter((f) => f !== "-DSDFN_CUDA_GRAPH"));
        })
        .catch(failed);
      renameSync(`${obj}.tmp`, obj);
      process.stdout.write(`  compiled ${file} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    }
    return obj;
  }),
);
await run("g++", [...objects, "-o", `${target}.tmp`, ...linkFlags]).catch(failed);
renameSync(`${target}.tmp`, target);
process.stdout.write(`sdfn: wrote ${target}\n`);
