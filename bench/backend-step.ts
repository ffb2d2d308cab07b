// Benchmark (not a test): one ResNet training step (forward + backward + SGD update, batch norm
// in training mode, synthetic NHWC inputs) on each tfjs backend against PyTorch running the
// reference ResNet (bench/reference/encoders.py) in the same run. Rounds alternate tfjs and
// PyTorch so that load from other processes hits both; the table gives medians and minimums of
// wall time and of CPU time (user + system of the process: steadier on a shared machine).
//   npx tsx bench/backend-step.ts [--arch resnet50] [--size 64] [--batch 8] [--dim 256]
//                                 [--steps 3] [--rounds 2] [--backends torch,wasm] [--json]
// The paper's size is --size 224 --batch 32 (minutes per step on a 2-core CPU).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import * as tf from "@tensorflow/tfjs";

import { backendStatus, fallbackCounts, useBackend } from "../src/backend/index.js";
import { ParamStore } from "../src/nn/scope.js";
import { createRegistry } from "../src/builtins.js";
import type { ImageEncoder } from "../src/registry/kinds.js";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    arch: { type: "string", default: "resnet50" },
    size: { type: "string", default: "64" },
    batch: { type: "string", default: "8" },
    dim: { type: "string", default: "256" },
    steps: { type: "string", default: "3" },
    rounds: { type: "string", default: "2" },
    backends: { type: "string" },
    threads: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const o = {
  arch: values.arch!,
  size: Number(values.size),
  batch: Number(values.batch),
  dim: Number(values.dim),
  steps: Number(values.steps),
  rounds: Number(values.rounds),
};
tf.env().set("PROD", true);

/** tfjs: build the encoder once per backend, then time `steps` steps after one warm-up. */
interface Times {
  wall: number[];
  cpu: number[];
}

async function tfjsSteps(backend: string, state: Map<string, { encoder: ImageEncoder; store: ParamStore }>): Promise<Times> {
  await useBackend(backend);
  if (!state.has(backend)) {
    const registry = createRegistry();
    const store = new ParamStore(0);
    const encoder = registry.build("image_encoder", { type: o.arch, dim: o.dim }, { dim: o.dim, scope: store.root().child("image"), filesDir: here }, "--arch");
    state.set(backend, { encoder, store });
  }
  const { encoder, store } = state.get(backend)!;
  const images = tf.randomNormal([o.batch, o.size, o.size, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  const optimizer = tf.train.sgd(1e-3);
  const variables = store.trainable();
  let seed = 0;
  const fc = { training: true, seed: () => seed++ };
  const step = () => {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(encoder.encode(images, fc))) as tf.Scalar, variables);
    optimizer.applyGradients(grads);
    value.dataSync(); // the step's one readback (waits for queued work)
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const times: Times = { wall: [], cpu: [] };
  for (let k = 0; k < o.steps; k++) {
    const start = performance.now();
    const cpu = process.cpuUsage();
    step();
    const used = process.cpuUsage(cpu);
    times.wall.push(performance.now() - start);
    times.cpu.push((used.user + used.system) / 1000);
  }
  images.dispose();
  optimizer.dispose();
  return times;
}

const pythonScript = `
import json, sys, time, torch
sys.path.insert(0, ${JSON.stringify(join(here, "reference"))})
from encoders import ImageEncoder
arch, size, batch, dim, steps = sys.argv[1], *map(int, sys.argv[2:6])
torch.manual_seed(0)
enc = ImageEncoder({"type": arch}, dim).train()
opt = torch.optim.SGD(enc.parameters(), lr=1e-3)
images = torch.randn(batch, size, size, 3)
def step():
    opt.zero_grad(set_to_none=True)
    loss = enc(images).square().mean()
    loss.backward()
    opt.step()
    loss.item()
step()
wall, cpu = [], []
for _ in range(steps):
    t, c = time.perf_counter(), time.process_time()
    step()
    wall.append((time.perf_counter() - t) * 1000)
    cpu.append((time.process_time() - c) * 1000)
print(json.dumps({"wall": wall, "cpu": cpu, "threads": torch.get_num_threads(), "version": torch.__version__}))
`;

function pytorchSteps(): Times & { threads: number; version: string } {
  const r = spawnSync("/usr/bin/python3", ["-c", pythonScript, o.arch, String(o.size), String(o.batch), String(o.dim), String(o.steps)], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`PyTorch reference failed: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  if (values.threads) process.env.SDFN_TORCH_THREADS = values.threads;
  const status = await backendStatus();
  const wanted = values.backends ? values.backends.split(",") : status.filter((s) => s.available && s.name !== "cpu").map((s) => s.name);
  const times = new Map<string, Times>([...wanted, "pytorch"].map((b) => [b, { wall: [], cpu: [] }]));
  const add = (name: string, t: Times) => {
    times.get(name)!.wall.push(...t.wall);
    times.get(name)!.cpu.push(...t.cpu);
  };
  const state = new Map<string, { encoder: ImageEncoder; store: ParamStore }>();
  let torchInfo = "";
  for (let r = 0; r < o.rounds; r++) {
    for (const b of wanted) add(b, await tfjsSteps(b, state));
    const py = pytorchSteps();
    add("pytorch", py);
    torchInfo = `PyTorch ${py.version}, ${py.threads} thread(s)`;
  }
  const ref = times.get("pytorch")!;
  const rows = [...wanted, "pytorch"].map((b) => {
    const t = times.get(b)!;
    return {
      name: b === "pytorch" ? b : `tfjs/${b}`,
      wall_median_ms: median(t.wall),
      wall_min_ms: Math.min(...t.wall),
      cpu_median_ms: median(t.cpu),
      wall_ratio: median(t.wall) / median(ref.wall),
      cpu_ratio: median(t.cpu) / median(ref.cpu),
    };
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ options: o, rows, fallback: fallbackCounts(), reference: torchInfo })}\n`);
    return;
  }
  process.stdout.write(
    `${o.arch} training step (fwd+bwd+SGD, BN train), ${o.size} px, batch ${o.batch}, proj d ${o.dim}; ` +
      `${o.rounds} rounds × ${o.steps} steps; ${torchInfo}\n`,
  );
  const cols = ["run", "wall med ms", "wall min ms", "cpu med ms", "× PyTorch (wall)", "× PyTorch (cpu)"];
  process.stdout.write(`${cols.map((c, k) => (k === 0 ? c.padEnd(12) : c.padStart(k > 3 ? 17 : 12))).join(" ")}\n`);
  for (const r of rows) {
    const cells = [r.wall_median_ms, r.wall_min_ms, r.cpu_median_ms].map((v) => v.toFixed(1).padStart(12));
    const ratios = [r.wall_ratio, r.cpu_ratio].map((v) => `${v.toFixed(2)}×`.padStart(17));
    process.stdout.write(`${[r.name.padEnd(12), ...cells, ...ratios].join(" ")}\n`);
  }
  const fb = fallbackCounts();
  if (Object.keys(fb).length) process.stdout.write(`torch fell back to cpu for: ${JSON.stringify(fb)}\n`);
}

await main();
