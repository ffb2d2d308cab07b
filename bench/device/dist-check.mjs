#!/usr/bin/env node
// Distributed training on the device machine (bench/device/run.sh, stage dist). Two checks:
// (1) Gloo over the device's tensors: `sdfn build --nproc 2` × batch 4 against one process ×
//     batch 8 on test/dist/fixtures/parity.yaml, both replayed (training.compile auto, so the
//     2-process program carries the allreduce): the final weights agree, both replayed steps;
// (2) NCCL with one process (world 1; two processes on one GPU are not a valid NCCL setup): the
//     addon's ProcessGroupNCCL initialises and runs an allreduce, allgather and barrier — or the
//     reason it is not in this build. Writes DIST.json; exits 1 when a check that could run failed.
// Usage: node bench/device/dist-check.mjs DIST.json TWO_RUN_DIR ONE_RUN_DIR DEVICE
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";

const [out, twoDir, oneDir, device] = process.argv.slice(2);
const TOLERANCE = 1e-4; // CUDA reductions are not bit-reproducible across batch splits; 1e-5 on the CPU (test/dist)

const events = (dir) =>
  readFileSync(`${dir}/metrics.jsonl`, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));

/** The float32 tensors of a safetensors file, by name. */
function safetensors(file) {
  const bytes = readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8"));
  const base = 8 + headerLength;
  const tensors = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === "__metadata__" || t.dtype !== "F32") continue;
    const [from, to] = t.data_offsets;
    tensors[name] = new Float32Array(bytes.buffer.slice(bytes.byteOffset + base + from, bytes.byteOffset + base + to));
  }
  return tensors;
}

function gloo() {
  const two = events(twoDir);
  const one = events(oneDir);
  const replayed = (log) => log.filter((e) => e.type === "epoch").reduce((n, e) => n + (e.compiled?.replayed ?? 0), 0);
  const wa = safetensors(`${twoDir}/checkpoints/last/weights.safetensors`);
  const wb = safetensors(`${oneDir}/checkpoints/last/weights.safetensors`);
  let worst = 0;
  for (const [name, a] of Object.entries(wa)) {
    const b = wb[name];
    if (!b || b.length !== a.length) return { ok: false, error: `weights differ in ${name}` };
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  const steps = two.filter((e) => e.type === "step" && typeof e.allreduceMs === "number");
  const mean = (k) => steps.reduce((s, e) => s + e[k], 0) / Math.max(1, steps.length);
  const result = {
    device: two.find((e) => e.type === "start")?.info?.device ?? null,
    world: two.find((e) => e.type === "start")?.info?.world ?? null,
    steps: steps.length,
    replayed: { two: replayed(two), one: replayed(one) },
    max_weight_difference: worst,
    allreduce_ms_per_step: +mean("allreduceMs").toFixed(3),
    allreduce_bytes_per_step: Math.round(mean("allreduceBytes")),
  };
  return { ...result, ok: worst <= TOLERANCE && result.replayed.two > 0 && result.replayed.one > 0 && result.world === 2 };
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

async function nccl() {
  const addon = createRequire(import.meta.url)("../../native/build/sdfn_torch.node");
  const info = addon.distInfo?.() ?? { backends: "", why: "the addon predates distributed training" };
  if (!info.backends.split(",").includes("nccl")) {
    return { built: false, why: info.backends ? `this build has ${info.backends} only (no CUDA libtorch with nccl.h)` : info.why };
  }
  try {
    addon.distInit(0, 1, "127.0.0.1", await freePort(), "nccl", 60_000, device.startsWith("cuda") ? device : "cuda");
    const values = Float32Array.of(1, 2, 3);
    addon.distAllreduceHost(values); // host → CUDA buffer → ncclAllReduce → host
    const gathered = addon.distAllgather(Float32Array.of(4, 5));
    addon.distBarrier();
    const stats = addon.distStats();
    addon.distDestroy();
    const ok = values.join() === "1,2,3" && gathered.length === 1 && Array.from(gathered[0]).join() === "4,5";
    return { built: true, initialised: true, allreduce: Array.from(values), allgather: gathered.map((g) => Array.from(g)), collectives: stats.collectives, ok };
  } catch (err) {
    return { built: true, ok: false, error: String(err?.message ?? err) };
  }
}

const result = { gloo: gloo(), nccl: await nccl() };
result.ok = result.gloo.ok && (!result.nccl.built || result.nccl.ok);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log("dist", JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
