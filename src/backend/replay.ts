// Record and replay, backend-neutral: what the training step (src/train/compiled-step.ts), the
// evaluation forward (src/eval/compiled-forward.ts) and the query encoder built on it use. A run of
// a function is recorded eagerly; two recordings of one signature that agree become a program,
// which every later run of that signature replays natively; a run that cannot be replayed turns
// replay off with one warning, and runs stay eager. Only the torch backend can replay
// (src/backend/torch/replay/); elsewhere `createReplayer` says why not.
import * as tf from "@tensorflow/tfjs";

import type { Replayer, ReplayerOptions } from "./replay-contract.js";
import type { TorchBackend } from "./torch/backend.js";
import { TorchReplayer } from "./torch/replay/unit.js";

export type * from "./replay-contract.js";
export { seedStepGenerator } from "./torch/replay/step-seed.js";

/** Why the active backend cannot record and replay runs (null when it can). */
export function replayUnavailable(): string | null {
  if (tf.getBackend() !== "torch") return `replay needs the torch backend (this run uses ${tf.getBackend()})`;
  if (typeof (tf.backend() as TorchBackend).native.addon.programCreate !== "function") {
    return "the native addon predates compiled steps; rebuild it with `npm run build:native`";
  }
  return null;
}

/** A replayer on the active backend, or why there is none (replayUnavailable). */
export function createReplayer<Meta = void>(options: ReplayerOptions): Replayer<Meta> | { unavailable: string } {
  const unavailable = replayUnavailable();
  if (unavailable) return { unavailable };
  return new TorchReplayer<Meta>(tf.backend() as TorchBackend, options);
}
