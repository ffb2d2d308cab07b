// The torch backend's compiled step for bench/run.ts: the `torch+replay` row runs the recipe's
// training step through trainStep with a step compiler (recorded twice, then replayed natively),
// and both torch rows report kernels per step; the replay row also its host µs per kernel (time
// in the replay outside the kernels' ATen calls).
import * as tf from "@tensorflow/tfjs";

import type { TorchBackend } from "../src/backend/torch/backend.js";
import type { TrainBatch } from "../src/data/types.js";
import type { Network } from "../src/graph/compile.js";
import type { ForwardContext } from "../src/nn/context.js";
import { CompiledSteps } from "../src/train/compiled-step.js";
import type { Optimizer } from "../src/train/kinds.js";
import { trainStep, type NamedLoss, type StepSetup } from "../src/train/step.js";

export interface CompiledBench {
  step: () => Promise<void>;
  /** Kernels a replay runs and its host overhead per kernel (µs). */
  stats(): { kernels: number; hostMicrosPerKernel: number };
  dispose(): void;
}

interface Parts {
  network: Network;
  losses: NamedLoss[];
  optimizer: Optimizer;
  variables: ReadonlyMap<string, tf.Variable>;
  batch: Omit<TrainBatch, "ids">;
  teacher: { paths: tf.Tensor3D[]; mask: tf.Tensor1D };
  lr: number;
}

/** A replayed training step, its program already built (two recorded steps run here). */
export async function compiledBench(p: Parts): Promise<CompiledBench> {
  const backend = tf.backend() as TorchBackend;
  const compiled = new CompiledSteps(backend, (message) => {
    throw new Error(message);
  });
  const setup: StepSetup = {
    net: p.network,
    losses: p.losses,
    optimizer: p.optimizer,
    variables: [...p.variables.values()],
    dottedName: new Map([...p.variables].map(([name, v]) => [v.name, name])),
    recordPaths: false,
    compiled,
  };
  const batch: TrainBatch = { ...p.batch, ids: Array.from({ length: p.batch.tokens.shape[0] }, (_, i) => i) };
  let seed = 0;
  const fc: ForwardContext = { training: true, seed: () => seed++ };
  const step = async () => {
    await trainStep(setup, batch, p.teacher, fc, p.lr);
  };
  await step();
  await step(); // two captures → the program
  return {
    step,
    stats: () => {
      const program = compiled.programs()[0];
      if (!program) throw new Error("the step was not compiled");
      return { kernels: program.kernels, hostMicrosPerKernel: program.stats().hostMicrosPerKernel };
    },
    dispose: () => compiled.dispose(),
  };
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
