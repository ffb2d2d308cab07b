// The training loop, and only the loop: a state record (where training stands)
// and `runEpoch`/`endEpoch` over a TrainLoop (what the run layer, src/run/train.ts,
// assembled: network, losses, optimizer, schedule, batches, evaluation,
// checkpoints, the event sink). One seed drives everything: shuffling and
// augmentation (seed ⊕ epoch) and dropout (seed ⊕ step), so a resumed run
// continues exactly.
import * as tf from "@tensorflow/tfjs";
import type { TrainBatch } from "../data/types.js";
import type { Network } from "../graph/compile.js";
import type { ForwardContext } from "../nn/context.js";
import { Rng } from "../util/rng.js";
import type { EventSink } from "./events.js";
import type { Schedule } from "../registry/kinds-training.js";
import { trainStep, type StepResult, type StepSetup } from "./step.js";
import type { Teacher } from "./teacher.js";

/** The metric that selects the best checkpoint: the mean over K and over the dataset's sets. */
export const PRIMARY_METRIC = "avg/mean";

/** What a checkpoint keeps of the state: enough to continue exactly. */
export interface TrainPosition {
  /** The epoch in progress (0-based) and the steps of it already done; epochStep 0 = at its start. */
  epoch: number;
  epochStep: number;
  /** Global steps done. */
  step: number;
  best: { name: string; value: number; epoch: number } | null;
  /** The latest evaluation's metrics, if any. */
  metrics: Record<string, number> | null;
}

/** Running sums of the epoch in progress (for its mean losses). */
export interface EpochTotals {
  losses: Record<string, number>;
  steps: number;
  samples: number;
  seconds: number;
}

/** Where training stands, mutated by the loop. */
export interface TrainState extends TrainPosition {
  totals: EpochTotals;
  /** Samples and step seconds of this process (for samples_per_s). */
  samples: number;
  seconds: number;
  warnedNoGradient: boolean;
}

/** What the loop runs over (assembled by src/run/train.ts). */
export interface TrainLoop {
  seed: number;
  epochs: number;
  stepsPerEpoch: number;
  evalEvery: number;
  network: Network;
  step: StepSetup;
  schedule: Schedule;
  teacher: Teacher;
  /** The epoch's batches; `resumes` when the source itself starts at `skip` (cached features). */
  batches(epoch: number, shuffle: Rng, skip: number): { batches: AsyncIterable<TrainBatch>; resumes: boolean };
  /** Evaluates the network (metric name → percent). */
  evaluate(): Promise<Record<string, number>>;
  /** Chance and the dataset's baselines on the evaluation sets (computed once), shown beside each evaluation. */
  baselines?(): Record<string, Record<string, number>>;
  /** Saves TAG at `position` (where a resume starts); the event names the epoch in progress. */
  checkpoint(tag: "last" | "best", reason: "epoch" | "best" | "interrupt" | "every", position: { epoch: number; epochStep: number }): Promise<void>;
  /** Also write the last checkpoint every N steps inside an epoch (training.checkpoint_every; 0 = only at epoch ends). */
  checkpointEvery?: number;
  emit: EventSink;
  signal?: AbortSignal;
  /** Shown when training stops: how to resume, and the last good checkpoint. */
  resumeCommand: string;
  /** The last checkpoint's directory as it stands now, or undefined when none has been written. */
  readonly lastCheckpoint: string | undefined;
}

export type Outcome = "completed" | "interrupted" | "non-finite-loss";

/** Independent RNG streams from the recipe seed: 1 = shuffling/augmentation per epoch, 2 = dropout per step. */
export const streamRng = (seed: number, stream: number, index: number) =>
  new Rng((seed ^ Math.imul(stream, 0x85ebca6b)) >>> 0).fork(index);

const emptyTotals = (): EpochTotals => ({ losses: {}, steps: 0, samples: 0, seconds: 0 });

/** The state at the start of a run, or where a checkpoint left it. */
export function initialState(from?: TrainPosition & { epochTotals: EpochTotals }): TrainState {
  const position = from
    ? { epoch: from.epoch, epochStep: from.epochStep, step: from.step, best: from.best, metrics: from.metrics }
    : { epoch: 0, epochStep: 0, step: 0, best: null, metrics: null };
  return { ...position, totals: from?.epochTotals ?? emptyTotals(), samples: 0, seconds: 0, warnedNoGradient: false };
}

/** Runs every remaining epoch; an interrupt or a non-finite loss stops it (with a checkpoint and a "stopped" event). */
export async function runEpochs(loop: TrainLoop, state: TrainState): Promise<Outcome> {
  for (; state.epoch < loop.epochs; state.epoch++) {
    const stopped = await runEpoch(loop, state);
    if (stopped === "non-finite-loss") return stopped;
    if (stopped === "interrupt") {
      await loop.checkpoint("last", "interrupt", { epoch: state.epoch, epochStep: state.epochStep });
      const message = `interrupted at epoch ${state.epoch + 1}, step ${state.epochStep}/${loop.stepsPerEpoch}; checkpoint written`;
      loop.emit({ type: "stopped", time: Date.now(), reason: "interrupt", message, resumeCommand: loop.resumeCommand });
      return "interrupted";
    }
    await endEpoch(loop, state);
    if (loop.signal?.aborted && state.epoch + 1 < loop.epochs) {
      state.epoch++;
      const message = `interrupted after epoch ${state.epoch} of ${loop.epochs}; checkpoint written`;
      loop.emit({ type: "stopped", time: Date.now(), reason: "interrupt", message, resumeCommand: loop.resumeCommand });
      return "interrupted";
    }
  }
  return "completed";
}

const disposeBatch = (batch: TrainBatch) => tf.dispose([batch.reference, batch.target, batch.tokens, batch.mask]);

/** The steps of `state.epoch` from `state.epochStep` on; "done" at its end. */
export async function runEpoch(loop: TrainLoop, state: TrainState): Promise<"done" | "interrupt" | "non-finite-loss"> {
  const skip = state.epochStep;
  const { batches, resumes } = loop.batches(state.epoch, streamRng(loop.seed, 1, state.epoch), skip);
  let epochStep = resumes ? skip : 0;
  let last = performance.now();
  for await (const batch of batches) {
    if (epochStep < skip) {
      // trained before the resume: the same batch, drawn from the same stream, skipped
      disposeBatch(batch);
      epochStep++;
      last = performance.now();
      continue;
    }
    const teacher = loop.teacher.forBatch(batch);
    const dropout = streamRng(loop.seed, 2, state.step);
    const fc: ForwardContext = { training: true, seed: () => dropout.nextUint32() };
    const lr = loop.schedule.lrAt(state.step);
    let result: StepResult;
    try {
      result = await trainStep(loop.step, batch, teacher, fc, lr);
    } finally {
      disposeBatch(batch);
      teacher?.dispose();
    }
    if (result.nonFinite.length > 0) {
      loop.emit({ type: "stopped", time: Date.now(), reason: "non-finite-loss", message: nonFiniteMessage(loop, state, result, lr) });
      return "non-finite-loss";
    }
    const now = performance.now();
    record(loop, state, result, { epochStep, samples: batch.ids.length, seconds: (now - last) / 1000, lr });
    last = now;
    // Let the event loop turn once per step: stdin (the dashboard's q / Ctrl-C), SIGINT
    // and timers wait for it, and an in-memory dataset's awaits never yield on their own.
    await new Promise((resolve) => setImmediate(resolve));
    state.step++;
    epochStep++;
    state.epochStep = epochStep;
    if (loop.signal?.aborted && epochStep < loop.stepsPerEpoch) return "interrupt";
    // A kill -9 then loses at most N steps; the epoch's own checkpoint covers its last step.
    const every = loop.checkpointEvery ?? 0;
    if (every > 0 && state.step % every === 0 && epochStep < loop.stepsPerEpoch) {
      await loop.checkpoint("last", "every", { epoch: state.epoch, epochStep });
    }
    if (epochStep >= loop.stepsPerEpoch) break;
  }
  state.epochStep = 0;
  return "done";
}

/** One applied step: totals, the warning about parameters without gradient, the step event. */
function record(loop: TrainLoop, state: TrainState, result: StepResult, s: { epochStep: number; samples: number; seconds: number; lr: number }) {
  if (result.noGradient.length > 0 && !state.warnedNoGradient) {
    state.warnedNoGradient = true;
    const message = `${result.noGradient.length} trainable parameter(s) receive no gradient (e.g. "${result.noGradient[0]}"); they will not train`;
    loop.emit({ type: "warning", time: Date.now(), message });
  }
  const totals = state.totals;
  totals.steps += 1;
  totals.samples += s.samples;
  totals.seconds += s.seconds;
  state.samples += s.samples;
  state.seconds += s.seconds;
  for (const [k, v] of Object.entries(result.losses)) totals.losses[k] = (totals.losses[k] ?? 0) + v;
  loop.emit({
    type: "step",
    time: Date.now(),
    epoch: state.epoch,
    step: state.step,
    epochStep: s.epochStep,
    stepsPerEpoch: loop.stepsPerEpoch,
    losses: result.losses,
    total: result.total,
    lr: s.lr,
    // The epoch's rate so far, not this step's alone: the live figure ends equal to the epoch's.
    samplesPerSec: totals.samples / Math.max(totals.seconds, 1e-9),
    routing: result.routing,
  });
}

function nonFiniteMessage(loop: TrainLoop, state: TrainState, result: StepResult, lr: number): string {
  const names = result.nonFinite.map((n) => `"${n}"`).join(", ");
  const what = Object.values(result.losses).some(Number.isNaN) ? "NaN" : "infinite";
  return (
    `loss ${names} became ${what} at epoch ${state.epoch + 1}, step ${state.step} (lr ${lr.toExponential(2)}); training stopped before applying it. ` +
    (loop.lastCheckpoint ? `The last good checkpoint is ${loop.lastCheckpoint} (from before the failing step). ` : "No checkpoint was written before it. ") +
    // A resume replays the same steps with the same recipe (a changed one is refused), so it would fail again.
    `Start a new run with a lower learning rate (--set training.optimizer.lr=${(lr / 10).toExponential(1)}) ` +
    `or with gradient clipping (--set training.optimizer.grad_clip=1)`
  );
}

/** The end of an epoch: its event, the teacher hand-over, evaluation when due, checkpoints. */
export async function endEpoch(loop: TrainLoop, state: TrainState): Promise<void> {
  const { totals } = state;
  const mean: Record<string, number> = {};
  for (const [k, v] of Object.entries(totals.losses)) mean[k] = v / Math.max(1, totals.steps);
  const samplesPerSec = totals.samples / Math.max(totals.seconds, 1e-9);
  const compiled = loop.step.compiled?.takeCounts();
  loop.emit({ type: "epoch", time: Date.now(), epoch: state.epoch, losses: mean, seconds: totals.seconds, samplesPerSec, ...(compiled ? { compiled } : {}) });
  loop.teacher.advance(loop.network);
  const due = (state.epoch + 1) % loop.evalEvery === 0 || state.epoch + 1 === loop.epochs;
  let isBest = false;
  if (due) {
    const metrics = await loop.evaluate();
    state.metrics = metrics;
    const value = metrics[PRIMARY_METRIC] ?? 0;
    isBest = !state.best || value > state.best.value;
    if (isBest) state.best = { name: PRIMARY_METRIC, value, epoch: state.epoch };
    const baselines = loop.baselines?.();
    loop.emit({ type: "evaluation", time: Date.now(), epoch: state.epoch, metrics, primary: { name: PRIMARY_METRIC, value }, best: isBest, ...(baselines ? { baselines } : {}) });
  }
  state.totals = emptyTotals();
  const next = { epoch: state.epoch + 1, epochStep: 0 }; // a resume starts the next epoch
  if (isBest) await loop.checkpoint("best", "best", next);
  await loop.checkpoint("last", "epoch", next);
}
