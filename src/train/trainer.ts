// The trainer: compiles the recipe's network, trains it epoch by epoch with the
// recipe's losses, optimizer and schedule, evaluates every `eval_every` epochs,
// checkpoints, and emits TrainEvents. One seed drives everything: parameters
// (the ParamStore), shuffling and augmentation (seed ⊕ epoch) and dropout
// (seed ⊕ step), so a run resumed from a checkpoint continues exactly.
import * as tf from "@tensorflow/tfjs";
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { OpenDataset } from "../data/index.js";
import { loadVocabulary, saveVocabulary } from "../data/vocabulary.js";
import { evaluate } from "../eval/evaluate.js";
import { summaryRecall } from "../eval/protocols.js";
import type { Network } from "../graph/compile.js";
import type { LoadedRecipe } from "../recipe/index.js";
import type { ForwardContext } from "../registry/kinds.js";
import { Rng } from "../util/rng.js";
import {
  loadStoreTensors,
  optimizerState,
  readCheckpoint,
  saveCheckpoint,
  storeTensors,
  type CheckpointMeta,
  type CheckpointTag,
} from "./checkpoint.js";
import type { EventSink, RunInfo, TrainEvent } from "./events.js";
import type { Loss, Optimizer, Schedule } from "./kinds.js";
import { BACKBONE_PREFIX } from "./optimizers/adam-update.js";
import { featureSource } from "./features.js";
import { PathCache } from "./path-cache.js";
import { trainStep, type NamedLoss, type StepSetup } from "./step.js";

export interface TrainOptions {
  /** The run directory (ignored with `resume`: the run continues in its own directory). */
  outDir: string;
  /** A run directory to continue from its last checkpoint. */
  resume?: string;
  /** The active tfjs backend's name and device, for the events and summary (default: tf.getBackend()). */
  backend?: string;
  device?: string;
  onEvent: EventSink;
  signal?: AbortSignal;
  /** The command that resumes this run (shown on interrupt); default `sdfn build RECIPE --resume RUN_DIR`. */
  resumeCommand?: string;
  /** Replaceable for tests: how the network is compiled and the data opened. */
  deps?: Partial<TrainDeps>;
}

export interface TrainDeps {
  compileNetwork: (loaded: LoadedRecipe, vocabulary: OpenDataset["vocabulary"]) => Network;
  openDataset: (loaded: LoadedRecipe, vocabulary?: OpenDataset["vocabulary"]) => Promise<OpenDataset>;
}

export interface RunSummary {
  status: "completed" | "interrupted" | "non-finite-loss";
  recall: Record<string, number>;
  metrics: Record<string, number>;
  best: { name: string; value: number; epoch: number } | null;
  epochs: number;
  steps: number;
  backend: string;
  device: string;
  samples_per_s: number;
  seconds: number;
  recipe: string;
  recipe_hash: string;
  run_dir: string;
}

/** The metric that selects the best checkpoint: the mean over K and over the dataset's sets. */
export const PRIMARY_METRIC = "avg/mean";

/** The real network compiler and dataset, imported on first use (tests pass their own). */
async function resolveDeps(given: Partial<TrainDeps> | undefined): Promise<TrainDeps> {
  let compile = given?.compileNetwork;
  if (!compile) {
    const { compileNetwork } = await import("../graph/compile.js");
    compile = (loaded, vocabulary) => compileNetwork(loaded.recipe, loaded.registry, { vocabulary, recipeDir: loaded.dir });
  }
  let open = given?.openDataset;
  if (!open) {
    const { openDataset } = await import("../data/index.js");
    open = (loaded, vocabulary) => openDataset(loaded.recipe, loaded.registry, vocabulary ? { vocabulary } : {});
  }
  return { compileNetwork: compile, openDataset: open };
}

/** Steps in an epoch: the loader drops a last batch smaller than 2. */
export function stepsPerEpoch(pairs: number, batchSize: number, maxSteps: number): number {
  const full = Math.floor(pairs / batchSize) + (pairs % batchSize >= 2 ? 1 : 0);
  return maxSteps > 0 ? Math.min(full, maxSteps) : full;
}

/** Independent RNG streams from the recipe seed: 1 = shuffling/augmentation per epoch, 2 = dropout per step. */
export const streamRng = (seed: number, stream: number, index: number) =>
  new Rng((seed ^ Math.imul(stream, 0x85ebca6b)) >>> 0).fork(index);

/** `params` of a recipe entry without its `type`. */
const paramsOf = (entry: { readonly type: string }) => {
  const { type: _type, ...params } = entry as Record<string, unknown>;
  return params;
};

/** Trains `loaded`'s recipe; resolves with the run's summary (also written to summary.json). */
export async function train(loaded: LoadedRecipe, opts: TrainOptions): Promise<RunSummary> {
  const started = performance.now();
  const { recipe, registry } = loaded;
  const deps = await resolveDeps(opts.deps);
  const resumed = opts.resume ? readCheckpoint(resolve(opts.resume), "last") : null;
  if (resumed && resumed.meta.recipeHash !== loaded.hash) {
    throw new Error(
      `${opts.resume}: the checkpoint was trained with a different recipe (hash ${resumed.meta.recipeHash.slice(0, 12)}…, ` +
        `this one ${loaded.hash.slice(0, 12)}…); resume with the same recipe and --set options, or start a new run`,
    );
  }
  const runDir = resolve(opts.resume ?? opts.outDir);
  await tf.ready();
  const backend = opts.backend ?? tf.getBackend();
  const device = opts.device ?? "cpu";

  // Data and network (nothing is written before both succeed).
  const vocabFile = join(runDir, "vocabulary.json");
  const dataset = await deps.openDataset(loaded, resumed ? await loadVocabulary(vocabFile) : undefined);
  const net = deps.compileNetwork(loaded, dataset.vocabulary);
  const cleanup: (() => void)[] = [() => net.dispose()];
  try {
    const t = recipe.training;
    const losses: NamedLoss[] = recipe.losses.map((entry) => {
      const decl = registry.get("loss", entry.type)!;
      const loss = decl.build(decl.params.parse(paramsOf(entry)), {
        dim: net.dim,
        scope: net.store.root().child(`losses.${entry.type}`),
      }) as Loss;
      return { name: entry.type, loss };
    });
    const dotted = new Map<string, string>();
    for (const [name, v] of net.store.variables) dotted.set(v.name, name);
    const optDecl = registry.get("optimizer", t.optimizer.type)!;
    const optParams = optDecl.params.parse(paramsOf(t.optimizer)) as { lr: number; backbone_lr_mult?: number };
    // A backbone at lr × 0 is frozen: no gradient is computed for it at all.
    const frozenBackbone = optParams.backbone_lr_mult === 0;
    const variables = net.store.trainable().filter((v) => !(frozenBackbone && dotted.get(v.name)!.startsWith(BACKBONE_PREFIX)));
    const optimizer = optDecl.build(optParams, {
      variables: new Map(variables.map((v) => [dotted.get(v.name)!, v])),
    }) as Optimizer;
    cleanup.push(() => optimizer.dispose());
    const steps = stepsPerEpoch(dataset.train.length, t.batch_size, t.max_steps_per_epoch);
    if (steps === 0) {
      throw new Error(`data: ${dataset.train.length} training pairs give no batch of ${t.batch_size}; lower training.batch_size`);
    }
    const schedDecl = registry.get("schedule", t.schedule.type)!;
    const schedule = schedDecl.build(schedDecl.params.parse(paramsOf(t.schedule)), {
      baseLr: optParams.lr,
      epochs: t.epochs,
      stepsPerEpoch: steps,
    }) as Schedule;

    // Frozen backbone + data.feature_cache: feature maps instead of pixels.
    const features = await featureSource(loaded, dataset, net);

    // Path distillation: which teacher, if any.
    const teacherKind = losses.find((l) => l.loss.teacher)?.loss.teacher ?? null;
    const shape = { layers: net.layers.length, modules: net.layers[0]?.length ?? 0 };
    const cache = new PathCache(shape);
    const frozen = teacherKind === "frozen" ? deps.compileNetwork(loaded, dataset.vocabulary) : null;
    if (frozen) cleanup.push(() => frozen.dispose());
    let frozenReady = false;

    // Position, restored from the checkpoint when resuming.
    let epoch = 0;
    let skip = 0;
    let step = 0;
    let best: CheckpointMeta["best"] = null;
    let metrics: Record<string, number> | null = null;
    let totals: CheckpointMeta["epochTotals"] = { losses: {}, steps: 0, samples: 0, seconds: 0 };
    let priorSeconds = 0;
    if (resumed) {
      loadStoreTensors(net.store, resumed.weights, resumed.path);
      optimizer.load(optimizerState(resumed.state, resumed.meta.optimizer.steps));
      cache.load(resumed.state);
      if (frozen && resumed.meta.epoch > 0) {
        loadStoreTensors(frozen.store, resumed.state, resumed.path, "teacher.");
        frozenReady = true;
      }
      ({ epoch, epochStep: skip, step, best, metrics, epochTotals: totals } = resumed.meta);
      priorSeconds = resumed.meta.seconds;
    }

    // The run directory.
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, "recipe.resolved.yaml"), loaded.yaml);
    if (!resumed || !existsSync(vocabFile)) await saveVocabulary(dataset.vocabulary, vocabFile);
    const metricsFile = join(runDir, "metrics.jsonl");
    const emit = (e: TrainEvent) => {
      appendFileSync(metricsFile, `${JSON.stringify(e)}\n`);
      opts.onEvent(e);
    };
    const resumeCommand = opts.resumeCommand ?? `sdfn build ${loaded.file} --resume ${runDir}`;

    const info: RunInfo = {
      recipeName: recipe.name,
      runDir,
      backend,
      device,
      parameters: variables.reduce((n, v) => n + v.size, 0),
      epochs: t.epochs,
      stepsPerEpoch: steps,
      batchSize: t.batch_size,
      layers: net.layers,
      losses: losses.map((l) => l.name),
      startEpoch: epoch,
    };
    emit({ type: "start", time: Date.now(), info });

    const setup: StepSetup = { net, losses, optimizer, variables, dottedName: dotted, recordPaths: teacherKind === "cache" };
    const meta = (position: { epoch: number; epochStep: number }): CheckpointMeta => ({
      format: 1,
      recipeName: recipe.name,
      recipeHash: loaded.hash,
      ...position,
      step,
      rng: { seed: recipe.seed, streams: "seed⊕epoch (shuffle, augmentation), seed⊕step (dropout)" },
      optimizer: { type: t.optimizer.type, steps: optimizer.steps },
      epochTotals: totals,
      best,
      metrics,
      teacher: teacherKind,
      seconds: priorSeconds + (performance.now() - started) / 1000,
      time: new Date().toISOString(),
    });
    /** Saves TAG at `position` (where a resume starts); the event names the epoch in progress. */
    const checkpoint = async (tag: CheckpointTag, reason: "epoch" | "best" | "interrupt", position: { epoch: number; epochStep: number }) => {
      const withState = tag === "last"; // "best" keeps the weights only
      const extra = withState ? { ...cache.toTensors(), ...(frozenReady ? await storeTensors(frozen!.store, "teacher.") : {}) } : {};
      const path = await saveCheckpoint(runDir, tag, { store: net.store, optimizer, extra, meta: meta(position), withState });
      emit({ type: "checkpoint", time: Date.now(), epoch, step, path, reason });
    };
    const trainSeconds = () => totals.seconds;
    let allSamples = 0;
    let allSeconds = 0;
    let warnedNoGrad = false;

    const finish = (status: RunSummary["status"]): RunSummary => {
      const summary: RunSummary = {
        status,
        recall: metrics ? summaryRecall(metrics, recipe.evaluation.recall_at) : {},
        metrics: metrics ?? {},
        best,
        epochs: Math.min(epoch, t.epochs),
        steps: step,
        backend,
        device,
        samples_per_s: allSeconds > 0 ? allSamples / allSeconds : 0,
        seconds: priorSeconds + (performance.now() - started) / 1000,
        recipe: recipe.name,
        recipe_hash: loaded.hash,
        run_dir: runDir,
      };
      writeFileSync(join(runDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
      emit({ type: "end", time: Date.now(), summary: summary as unknown as Record<string, unknown> });
      return summary;
    };

    for (; epoch < t.epochs; epoch++) {
      const shuffle = streamRng(recipe.seed, 1, epoch);
      // With cached backbone features the source skips the batches trained before a resume itself.
      let epochStep = features ? skip : 0;
      const batches = features
        ? features.trainBatches(dataset.train, t.batch_size, shuffle, { skip })
        : dataset.loader.trainBatches(dataset.train, t.batch_size, shuffle);
      let last = performance.now();
      let stopped: "interrupt" | "non-finite-loss" | null = null;
      for await (const batch of batches) {
        if (epochStep < skip) {
          // trained before the resume: the same batch, drawn from the same stream, skipped
          tf.dispose([batch.reference, batch.target, batch.tokens, batch.mask]);
          epochStep++;
          last = performance.now();
          continue;
        }
        const teacher = frozenReady
          ? frozenTeacher(frozen!, batch)
          : teacherKind === "cache"
            ? cache.teacher(batch.ids)
            : null;
        const dropout = streamRng(recipe.seed, 2, step);
        const fc: ForwardContext = { training: true, seed: () => dropout.nextUint32() };
        const lr = schedule.lrAt(step);
        let result;
        try {
          result = await trainStep(setup, batch, teacher, fc, lr);
        } finally {
          tf.dispose([batch.reference, batch.target, batch.tokens, batch.mask]);
          if (teacher) tf.dispose([...teacher.paths, teacher.mask]);
        }
        if (result.nonFinite.length > 0) {
          emit({
            type: "stopped",
            time: Date.now(),
            reason: "non-finite-loss",
            message:
              `loss ${result.nonFinite.map((n) => `"${n}"`).join(", ")} became ${Object.values(result.losses).some(Number.isNaN) ? "NaN" : "infinite"} ` +
              `at epoch ${epoch + 1}, step ${step} (lr ${lr.toExponential(2)}); training stopped before applying it. ` +
              `The last good checkpoint is ${join(runDir, "checkpoints", "last.safetensors")}. ` +
              `Lower training.optimizer.lr or set training.optimizer.grad_clip, then start again or resume with: ${resumeCommand}`,
          });
          stopped = "non-finite-loss";
          break;
        }
        if (result.noGradient.length > 0 && !warnedNoGrad) {
          warnedNoGrad = true;
          emit({
            type: "warning",
            time: Date.now(),
            message: `${result.noGradient.length} trainable parameter(s) receive no gradient (e.g. "${result.noGradient[0]}"); they will not train`,
          });
        }
        if (result.paths) cache.record(batch.ids, result.paths);
        const now = performance.now();
        const seconds = (now - last) / 1000;
        last = now;
        const samples = batch.ids.length;
        totals.steps += 1;
        totals.samples += samples;
        totals.seconds += seconds;
        allSamples += samples;
        allSeconds += seconds;
        for (const [k, v] of Object.entries(result.losses)) totals.losses[k] = (totals.losses[k] ?? 0) + v;
        emit({
          type: "step",
          time: Date.now(),
          epoch,
          step,
          epochStep,
          stepsPerEpoch: steps,
          losses: result.losses,
          total: result.total,
          lr,
          samplesPerSec: samples / Math.max(seconds, 1e-9),
          routing: result.routing,
        });
        // Let the event loop turn once per step: stdin (the dashboard's q / Ctrl-C), SIGINT
        // and timers wait for it, and an in-memory dataset's awaits never yield on their own.
        await new Promise((resolve) => setImmediate(resolve));
        step++;
        epochStep++;
        if (opts.signal?.aborted && epochStep < steps) {
          stopped = "interrupt";
          break;
        }
        if (epochStep >= steps) break;
      }
      if (stopped === "non-finite-loss") return finish("non-finite-loss");
      skip = 0;
      if (stopped === "interrupt") {
        await checkpoint("last", "interrupt", { epoch, epochStep });
        emit({
          type: "stopped",
          time: Date.now(),
          reason: "interrupt",
          message: `interrupted at epoch ${epoch + 1}, step ${epochStep}/${steps}; checkpoint written`,
          resumeCommand,
        });
        return finish("interrupted");
      }
      await endEpoch();
      if (opts.signal?.aborted && epoch + 1 < t.epochs) {
        epoch++;
        emit({
          type: "stopped",
          time: Date.now(),
          reason: "interrupt",
          message: `interrupted after epoch ${epoch} of ${t.epochs}; checkpoint written`,
          resumeCommand,
        });
        return finish("interrupted");
      }
    }
    return finish("completed");

    /** Epoch event, teacher hand-over, evaluation, checkpoints. */
    async function endEpoch() {
      const mean: Record<string, number> = {};
      for (const [k, v] of Object.entries(totals.losses)) mean[k] = v / Math.max(1, totals.steps);
      emit({
        type: "epoch",
        time: Date.now(),
        epoch,
        losses: mean,
        seconds: trainSeconds(),
        samplesPerSec: totals.samples / Math.max(trainSeconds(), 1e-9),
      });
      cache.advance();
      if (frozen) {
        copyWeights(net, frozen);
        frozenReady = true;
      }
      const due = (epoch + 1) % t.eval_every === 0 || epoch + 1 === t.epochs;
      let isBest = false;
      if (due) {
        metrics = await evaluate(net, features?.evalLoader ?? dataset.loader, dataset.evalSets, {
          ks: recipe.evaluation.recall_at,
          batchSize: recipe.evaluation.batch_size,
        });
        const value = metrics[PRIMARY_METRIC] ?? 0;
        isBest = !best || value > best.value;
        if (isBest) best = { name: PRIMARY_METRIC, value, epoch };
        emit({ type: "evaluation", time: Date.now(), epoch, metrics, primary: { name: PRIMARY_METRIC, value }, best: isBest });
      }
      totals = { losses: {}, steps: 0, samples: 0, seconds: 0 };
      const next = { epoch: epoch + 1, epochStep: 0 }; // a resume starts the next epoch
      if (isBest) await checkpoint("best", "best", next);
      await checkpoint("last", "epoch", next);
    }
  } finally {
    for (const c of cleanup.reverse()) c();
  }
}

/** Teacher paths from the frozen copy of last epoch's weights (inference mode). */
function frozenTeacher(frozen: Network, batch: { reference: tf.Tensor4D; tokens: tf.Tensor2D; mask: tf.Tensor2D; ids: number[] }) {
  const inference: ForwardContext = { training: false, seed: () => 0 };
  const paths = tf.tidy(() => frozen.encodeQuery({ reference: batch.reference, tokens: batch.tokens, mask: batch.mask }, inference).paths);
  return { paths, mask: tf.ones([batch.ids.length]) as tf.Tensor1D };
}

/** teacher ← student, by parameter name (the teacher has no loss parameters). */
function copyWeights(from: Network, to: Network) {
  for (const [name, v] of to.store.variables) {
    const src = from.store.variables.get(name);
    if (src) v.assign(src);
  }
}
