// The torch backend's compiled step for bench/run.ts: the `torch+replay` row runs the recipe's
// training step through trainStep with a step compiler (recorded twice, then replayed natively),
// and both torch rows report kernels per step; the replay row also its host µs per kernel (time
// in the replay outside the kernels' ATen calls): the median over the bench's replays, so one
// replay slowed by a busy machine does not move it.
import * as tf from "@tensorflow/tfjs";

import type { TorchBackend } from "../src/backend/torch/backend.js";
import type { TrainBatch } from "../src/data/types.js";
import type { Network } from "../src/graph/compile.js";
import type { ForwardContext } from "../src/nn/context.js";
import { CompiledSteps } from "../src/train/compiled-step.js";
import type { Optimizer } from "../src/registry/kinds-training.js";
import { flattenPaths, PathCache } from "../src/train/path-cache.js";
import { stepSetup, trainStep, type NamedLoss } from "../src/train/step.js";
import { cacheTeacher } from "../src/train/teacher.js";

export interface CompiledBench {
  step: () => Promise<void>;
  /** Kernels a replay runs and its host overhead per kernel (µs: the median over the replays run so far). */
  stats(): { kernels: number; hostMicrosPerKernel: number; updates: number; inPlaceUpdates: number; overwrites: number };
  dispose(): void;
}

interface Parts {
  network: Network;
  losses: NamedLoss[];
  optimizer: Optimizer;
  batch: Omit<TrainBatch, "ids">;
  /** The batch's teacher paths, as the distillation cache holds them from epoch 2 on. */
  teacher: tf.Tensor3D[];
  lr: number;
}

/** A replayed training step, its program already built (two recorded steps run here). */
export async function compiledBench(p: Parts): Promise<CompiledBench> {
  const compiled = new CompiledSteps((message) => {
    throw new Error(message);
  });
  const setup = stepSetup(p.network, p.losses, p.optimizer, { compiled });
  const batch: TrainBatch = { ...p.batch, ids: Array.from({ length: p.batch.tokens.shape[0] }, (_, i) => i) };
  const cache = cachedTeacher(p.teacher, batch.ids);
  const teacher = cacheTeacher(cache, batch.ids);
  let seed = 0;
  const fc: ForwardContext = { training: true, seed: () => seed++ };
  const run = async () => {
    await trainStep(setup, batch, teacher, fc, p.lr);
  };
  await run();
  await run(); // two captures → the program
  const program = compiled.programs()[0];
  if (!program) throw new Error("the step was not compiled");
  // host µs per kernel of each replay, from the program's running totals before and after it
  const totals = () => {
    const { replays, hostMicrosPerKernel } = program.stats();
    return { replays, hostMicros: replays ? hostMicrosPerKernel * replays * program.kernels : 0 };
  };
  const perReplay: number[] = [];
  const step = async () => {
    const before = totals();
    await run();
    const after = totals();
    if (after.replays === before.replays + 1) perReplay.push((after.hostMicros - before.hostMicros) / program.kernels);
  };
  return {
    step,
    stats: () => ({ kernels: program.kernels, hostMicrosPerKernel: median(perReplay), updates: program.updates, ...pick(program.stats()) }),
    dispose: () => {
      compiled.dispose();
      teacher.dispose();
      cache.dispose();
    },
  };
}

/** A distillation cache over the batch's samples holding `paths` from the previous epoch: each step reads its teacher there and writes its paths. */
function cachedTeacher(paths: tf.Tensor3D[], ids: number[]): PathCache {
  const cache = new PathCache({ layers: paths.length, modules: paths[0]!.shape[1] }, ids.length);
  const flat = flattenPaths(paths);
  cache.insert(ids, flat.dataSync() as Float32Array);
  flat.dispose();
  cache.advance();
  return cache;
}

const pick = ({ inPlaceUpdates, overwrites }: { inPlaceUpdates: number; overwrites: number }) => ({ inPlaceUpdates, overwrites });

function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Native kernels one run of `step` calls on the torch backend (recorded once). */
export async function kernelsPerStep(step: () => Promise<void>): Promise<number> {
  const backend = tf.backend() as TorchBackend;
  const recorder = backend.startRecording();
  try {
    await step();
  } finally {
    backend.stopRecording();
  }
  return recorder.kernelCount;
}
