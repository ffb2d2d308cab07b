// Where a replayed training step spends its time and memory: the bench recipe (bench/run.ts
// options) is compiled once, then replayed with native per-kernel timing (programProfile); the time
// per kernel name is printed beside the process RSS and the peak tensor memory of the replays
// (the addon's memoryStats); --reference adds torch.profiler's per-op table
// of bench/reference/profile.py on the same recipe and batch, for the side-by-side comparison.
//   npx tsx bench/replay-profile.ts --encoder resnet50 --image-size 64 --batch 8 --dim 1024 [--steps 1] [--reference]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";

import { useBackend } from "../src/backend/index.js";
import type { TorchBackend } from "../src/backend/torch/backend.js";
import { writeSafetensors } from "../src/io/safetensors.js";
import { loadRecipe } from "../src/recipe/index.js";
import { openSession } from "../src/run/session.js";
import { compiledBench } from "./compiled-step.js";
import { evalContext, syntheticBatch, type PlainTensor } from "./reference/exchange.js";
import { benchBatch, benchRecipe, parseOptions } from "./run.js";

const rssMiB = () => Math.round(process.memoryUsage().rss / 2 ** 20);

async function main(argv: string[]): Promise<number> {
  const reference = argv.includes("--reference");
  const o = parseOptions(argv.filter((a) => a !== "--reference"));
  const dir = mkdtempSync(join(tmpdir(), "sdfn-profile-"));
  try {
    writeFileSync(join(dir, "bench.yaml"), benchRecipe(o));
    const loaded = await loadRecipe(join(dir, "bench.yaml"));
    const inputs = syntheticBatch({ batch: o.batch, imageSize: o.imageSize, channels: 3, textLength: o.textLength, vocabSize: o.vocab, seed: 1 });
    await profileReplay(loaded, inputs, o.vocab, o.steps);
    if (reference) referenceProfile(dir, loaded.recipe, inputs, o.vocab);
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function profileReplay(loaded: Awaited<ReturnType<typeof loadRecipe>>, inputs: ReturnType<typeof syntheticBatch>, vocab: number, steps: number) {
  tf.env().set("PROD", true);
  await useBackend("torch");
  const addon = (tf.backend() as TorchBackend).native.addon;
  if (!addon.programProfile) throw new Error("the torch addon predates programProfile: npm run build:native");
  const words = Array.from({ length: vocab }, (_, i) => `w${i}`);
  const { network, losses, optimizer } = await openSession(loaded, { vocabulary: { size: vocab, words }, dataset: false });
  const batch = benchBatch(inputs as Record<string, PlainTensor>);
  const teacher = tf.tidy(() => network.encodeQuery(batch, evalContext).paths.map((p) => tf.keep(p)));
  const lr = Number(loaded.registry.resolve("optimizer", loaded.recipe.training.optimizer, "training.optimizer").params.lr);
  console.log(`torch threads ${addon.info().threads}; RSS before the captures ${rssMiB()} MiB`);
  const compiled = await compiledBench({ network, losses, optimizer, batch, teacher, lr });
  console.log(`RSS after two recorded eager steps ${rssMiB()} MiB`);
  await compiled.step();
  console.log(`RSS after one replay ${rssMiB()} MiB`);
  addon.programProfile(true);
  addon.resetMemoryPeak?.();
  const started = performance.now();
  for (let k = 0; k < steps; k++) await compiled.step();
  const stepMs = (performance.now() - started) / steps;
  const rows = addon.programProfile(false).sort((a, b) => b[2] - a[2]);
  const kernelNs = rows.reduce((sum, r) => sum + r[2], 0);
  const [tensors, peakTensors] = addon.memoryStats?.() ?? [NaN, NaN];
  console.log(`replay ${stepMs.toFixed(0)} ms a step (${(kernelNs / 1e6 / steps).toFixed(0)} ms inside kernels); RSS ${rssMiB()} MiB; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
  console.log(`tensors ${Math.round(tensors / 2 ** 20)} MiB between steps, ${Math.round(peakTensors / 2 ** 20)} MiB at the replays' peak`);
  for (const [name, calls, ns] of rows.filter((r) => r[2] / kernelNs > 1e-3)) {
    console.log(`  ${name.padEnd(26)} ${String(calls / steps).padStart(6)} calls ${(ns / 1e6 / steps).toFixed(1).padStart(9)} ms ${((100 * ns) / kernelNs).toFixed(1).padStart(5)} %`);
  }
  const stats = compiled.stats();
  console.log(`${stats.kernels} kernels a step; updates (Adam, distillation cache) run in place: ${stats.inPlaceUpdates} of ${stats.updates * (steps + 1)}; other kernels written into a dying input: ${stats.overwrites}`);
  compiled.dispose();
}

function referenceProfile(dir: string, recipe: unknown, inputs: ReturnType<typeof syntheticBatch>, vocab: number) {
  writeSafetensors(join(dir, "inputs.safetensors"), inputs);
  writeFileSync(join(dir, "recipe.json"), JSON.stringify({ recipe, vocab_size: vocab }));
  const python = process.env.SDFN_PYTHON ?? "/usr/bin/python3";
  const r = spawnSync(python, [join(dirname(fileURLToPath(import.meta.url)), "reference/profile.py"), dir], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`bench/reference/profile.py failed (${r.error?.message ?? `exit ${r.status}`})`);
}

process.exit(await main(process.argv.slice(2)));
