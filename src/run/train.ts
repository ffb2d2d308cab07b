// `train(loaded, opts)`: one run from a recipe to a run directory. Opens the
// session (data, network, losses, optimizer, schedule), restores a checkpoint
// when resuming, hands the loop (src/train/trainer.ts) its batches, evaluation
// and checkpoints, and ends with the run's summary. Every file goes through
// RunDir; nothing is written before the data and the network exist.
import * as tf from "@tensorflow/tfjs";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { setPrecision } from "../backend/precision.js";
import { loadVocabulary, saveVocabulary } from "../data/vocabulary.js";
import { missingImagesLine, type MissingImagesRecord } from "../data/missing-images.js";
import { DistJob } from "../dist/job.js";
import { referenceRecalls, type ReferenceRecalls } from "../eval/baselines.js";
import { compiledForward } from "../eval/compiled-forward.js";
import { evaluateDetailed } from "../eval/evaluate.js";
import type { KindBreakdown } from "../eval/kinds.js";
import { summaryRecall } from "../eval/protocols.js";
import { RecipeError, type LoadedRecipe } from "../recipe/index.js";
import { UserError } from "../util/errors.js";
import type { EventSink, RunInfo } from "../train/events.js";
import { stepCompiler } from "../train/compiled-step.js";
import { stepSetup } from "../train/step.js";
import { createTeacher, type TeacherKind } from "../train/teacher.js";
import { initialState, runEpochs, type Outcome, type TrainLoop, type TrainState } from "../train/trainer.js";
import { CheckpointError, optimizerState, saveCheckpoint, type CheckpointMeta, type LoadedCheckpoint } from "./checkpoint.js";
import { checkSameImages, resumableCheckpoint } from "./resume.js";
import { checkpointFix } from "./checkpoint-unit.js";
import { featureSource } from "./features.js";
import { writeSessionGallery } from "./gallery.js";
import { RunDir } from "./run-dir.js";
import { claimRunDir } from "./run-lock.js";
import { checkFreeSpace, checkpointBytes, type StatFs } from "./disk-space.js";
import { tensorboardSink } from "./tensorboard.js";
import { checkPretrainedFiles, pretrainedRecord, type PretrainedRecord } from "./pretrained.js";
import { openSession, type Session } from "./session.js";

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
  /** The file-system query of the free-space check (default fs.statfsSync; tests inject a full disk). */
  statfs?: StatFs;
}

export interface RunSummary {
  status: Outcome;
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
  /** Chance and the dataset's single-modality baselines on the evaluation sets (name → metric → percent). */
  baselines?: ReferenceRecalls;
  /** Set → kind of modification → recall and mean routing path, at the last evaluation (sets whose queries carry kinds: shapes). */
  kinds?: Record<string, KindBreakdown>;
  /** Per encoder, the file (path, SHA-256) its weights started from, or null: from scratch. Absent when a resumed checkpoint predates the record. */
  pretrained?: PretrainedRecord;
  /** With data.missing_images: skip: the missing images and what they took, kept and dropped per split and category. */
  missing_images?: MissingImagesRecord;
  /** With data.missing_images: skip: false when evaluation queries or gallery images were dropped (the recall is not comparable to published numbers). */
  comparable_to_published?: boolean;
}

/** What the last evaluation found beyond the metrics (filled by the loop's evaluate). */
interface LastEvaluation {
  kinds?: Record<string, KindBreakdown>;
}

/** Trains `loaded`'s recipe; resolves with the run's summary (also written to summary.json). */
export async function train(loaded: LoadedRecipe, opts: TrainOptions): Promise<RunSummary> {
  const started = performance.now();
  const dir = new RunDir(opts.resume ?? opts.outDir);
  await tf.ready();
  const backend = opts.backend ?? tf.getBackend();
  const device = opts.device ?? "cpu";
  setPrecision(loaded.recipe.training.precision); // before any tensor: bf16 needs the torch backend
  // Data-parallel (RANK/WORLD_SIZE set, e.g. by --nproc): join the job; rank 0 alone writes the run directory.
  const job = DistJob.join(loaded, device);
  // A run that stopped before its first checkpoint has nothing to continue from: it starts afresh (the claim below).
  const resumed = opts.resume ? resumableCheckpoint(dir.path, { recipeHash: loaded.hash, world: job?.world ?? 1 }) : null;

  // A fresh run reads its pretrained files (a resume takes every weight from the checkpoint):
  // a missing one is refused here, before the run directory exists.
  if (!resumed) checkPretrainedFiles(loaded);

  // The directory is this run's alone (refused when it holds another run or is being written; one
  // that stopped before its first checkpoint starts afresh, said in one line); the claim's lock
  // file is the probe write. Released, and removed when nothing else was written, on any exit.
  const claim = !job || job.leader ? claimRunDir(dir.path, { resume: Boolean(opts.resume), recipeHash: loaded.hash }) : undefined;
  if (claim?.restart) opts.onEvent({ type: "warning", time: Date.now(), message: claim.restart });

  // Data and network (nothing else is written before both succeed).
  const vocabulary = resumed ? await loadVocabulary(dir.vocabulary) : undefined;
  const onProgress = (p: { task: string; done: number; total: number }) => opts.onEvent({ type: "progress", time: Date.now(), ...p });
  const session = await openSession(loaded, { vocabulary, checkpoint: resumed ?? undefined, world: job?.world, checkImages: { onProgress } }).catch((err: unknown) => {
    claim?.release();
    throw err;
  });
  // What the encoders started from: this network's files, or what the resumed run recorded.
  const pretrained = resumed ? resumed.meta.pretrained : pretrainedRecord(session.network);
  let loop: TrainLoop | undefined;
  try {
    if (resumed) checkSameImages(resumed.meta, session.dataset.missingImages, dir.path);
    if (claim) checkFreeSpace(dir.path, checkpointBytes(session.network.store.variables), opts.statfs);
    const state = initialState(resumed?.meta);
    const priorSeconds = resumed?.meta.seconds ?? 0;
    const elapsed = () => priorSeconds + (performance.now() - started) / 1000;
    const last: LastEvaluation = {};
    loop = await assemble(session, dir, opts, state, elapsed, job, last, pretrained);
    if (resumed) restoreState(session, loop, resumed);
    if (job) loop = job.distribute(loop, session);

    if (!job || job.leader) {
      claim?.clearEarlyRun();
      dir.open(loaded.yaml);
      if (!resumed || !existsSync(dir.vocabulary)) await saveVocabulary(session.dataset.vocabulary, dir.vocabulary);
    }
    loop.emit({ type: "start", time: Date.now(), info: runInfo(session, loop, dir, { backend, device, startEpoch: state.epoch }) });
    const missingImages = session.dataset.missingImages;
    if (missingImages && missingImages.missing > 0) loop.emit({ type: "warning", time: Date.now(), message: missingImagesLine(missingImages) });
    const status = await runEpochs(loop, state);
    const baselines = state.metrics ? loop.baselines?.() : undefined;
    // example retrievals for report.html (a failure costs the gallery, not the run)
    const warn = (err: Error) => loop!.emit({ type: "warning", time: Date.now(), message: `no retrieval gallery: ${err.message}` });
    if (status === "completed" && (!job || job.leader)) await writeSessionGallery(dir, session).catch(warn);
    const summary = summarize(session, state, status, { backend, device, seconds: elapsed(), runDir: dir.path, baselines, kinds: last.kinds, pretrained });
    loop.emit({ type: "end", time: Date.now(), summary: summary as unknown as Record<string, unknown> });
    job?.leave(); // after a failure the process just exits: its peers learn of it from their collectives
    return summary;
  } finally {
    loop?.step.compiled?.dispose();
    loop?.teacher.dispose();
    session.dispose();
    claim?.release();
    setPrecision("fp32"); // the backend's precision is process-wide: later work in this process is fp32 again
  }
}

/** The loop over the session: its batches (pixels or cached backbone features), teacher, evaluation, checkpoints, events. */
async function assemble(
  session: Session,
  dir: RunDir,
  opts: TrainOptions,
  state: TrainState,
  elapsed: () => number,
  job: DistJob | null,
  last: LastEvaluation,
  pretrained: PretrainedRecord | undefined,
): Promise<TrainLoop> {
  const { recipe } = session.loaded;
  const t = recipe.training;
  const { dataset, network: net, losses, optimizer } = session;
  const steps = session.stepsPerEpoch;
  if (steps === 0) {
    // A recipe problem (exit 2), at the value to change; known only once the data is read.
    const why = `${dataset.train.length} training pairs give no training step at batch_size ${t.batch_size}; lower training.batch_size, or train on more pairs`;
    throw new RecipeError([session.loaded.locate(["training", "batch_size"], why)]);
  }
  const schedule = session.schedule;
  // Frozen backbone + data.feature_cache: feature maps instead of pixels.
  const features = await featureSource(session.loaded, dataset, net);
  const teacher = createTeacher(losses, net, dataset.train.length, () => session.twin());
  let references: ReferenceRecalls | undefined; // computed at the first evaluation, then reused
  // metrics.jsonl, then events.out.tfevents.*, then the caller; ranks other than 0 only log
  const emit = job && !job.leader ? opts.onEvent : dir.sink(tensorboardSink(dir.path, opts.onEvent));
  const compiled = stepCompiler(t.compile, (message) => emit({ type: "warning", time: Date.now(), message }), { textBucket: t.text_bucket, cudaGraph: t.cuda_graph });
  const forward = session.own(compiledForward(net, t.compile, (message) => emit({ type: "warning", time: Date.now(), message }), t.text_bucket));
  return {
    seed: recipe.seed,
    epochs: t.epochs,
    stepsPerEpoch: steps,
    evalEvery: t.eval_every,
    checkpointEvery: t.checkpoint_every,
    network: net,
    step: stepSetup(net, losses, optimizer, { compiled }),
    schedule,
    teacher,
    // Exactly the epoch's batches; a resumed epoch's first ones are skipped by the source, undecoded.
    batches: (_epoch, shuffle, skip) => {
      const epoch = { skip, dropLast: t.drop_last, maxBatches: t.max_steps_per_epoch };
      return { batches: (features ?? dataset.loader).trainBatches(dataset.train, t.batch_size, shuffle, epoch), resumes: true };
    },
    baselines: () => (references ??= referenceRecalls(dataset, recipe.evaluation.recall_at)),
    async evaluate() {
      const opts = { ks: recipe.evaluation.recall_at, batchSize: recipe.evaluation.batch_size };
      const { metrics, kinds } = await evaluateDetailed(forward ?? net, features?.evalLoader ?? dataset.loader, dataset.evalSets, opts);
      last.kinds = Object.keys(kinds).length > 0 ? kinds : undefined;
      return metrics;
    },
    async checkpoint(tag, reason, position) {
      const withState = tag === "last"; // "best" keeps the weights only
      const extra = withState ? await teacher.save() : {};
      const missing = dataset.missingImages;
      const meta = {
        ...checkpointMeta(session, teacher.kind, state, position, elapsed()),
        ...(job ? { world: job.world } : {}),
        ...(pretrained ? { pretrained } : {}),
        ...(missing ? { missingImages: { missing: missing.missing, fingerprint: missing.fingerprint } } : {}),
      };
      const path = await saveCheckpoint(dir.path, tag, { store: net.store, optimizer, extra, meta, withState });
      emit({ type: "checkpoint", time: Date.now(), epoch: state.epoch, step: state.step, path, reason });
    },
    emit,
    signal: opts.signal,
    resumeCommand: opts.resumeCommand ?? `sdfn build ${session.loaded.file} --resume ${dir.path}`,
    get lastCheckpoint() {
      return dir.hasCheckpoint("last") ? dir.checkpoint("last").dir : undefined;
    },
  };
}

/** The optimizer's and the teacher's state from the resumed checkpoint; a state file that does not fit the network is a CheckpointError. */
function restoreState(session: Session, loop: TrainLoop, resumed: LoadedCheckpoint): void {
  try {
    session.optimizer.load(optimizerState(resumed.state, resumed.meta.optimizer.steps));
    loop.teacher.load(resumed.state, resumed.path, resumed.meta.epoch);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new CheckpointError(`${dirname(resumed.path)}: ${(err as Error).message}; ${checkpointFix("last")}`);
  }
}

function checkpointMeta(session: Session, teacher: TeacherKind, state: TrainState, position: { epoch: number; epochStep: number }, seconds: number): CheckpointMeta {
  const { recipe, hash } = session.loaded;
  return {
    format: 1,
    recipeName: recipe.name,
    recipeHash: hash,
    ...position,
    step: state.step,
    rng: { seed: recipe.seed, streams: "seed⊕epoch (shuffle, augmentation), seed⊕step (dropout)" },
    optimizer: { type: recipe.training.optimizer.type, steps: session.optimizer.steps },
    epochTotals: state.totals,
    best: state.best,
    metrics: state.metrics,
    teacher,
    seconds,
    time: new Date().toISOString(),
  };
}

function runInfo(session: Session, loop: TrainLoop, dir: RunDir, at: { backend: string; device: string; startEpoch: number }): RunInfo {
  const { recipe } = session.loaded;
  return {
    recipeName: recipe.name,
    runDir: dir.path,
    backend: at.backend,
    device: at.device,
    parameters: loop.step.variables.reduce((n, v) => n + v.size, 0),
    epochs: recipe.training.epochs,
    stepsPerEpoch: loop.stepsPerEpoch,
    batchSize: recipe.training.batch_size,
    layers: session.network.layers,
    losses: session.losses.map((l) => l.name),
    startEpoch: at.startEpoch,
  };
}

function summarize(
  session: Session,
  state: TrainState,
  status: Outcome,
  at: {
    backend: string;
    device: string;
    seconds: number;
    runDir: string;
    baselines?: ReferenceRecalls;
    kinds?: Record<string, KindBreakdown>;
    pretrained?: PretrainedRecord;
  },
): RunSummary {
  const { recipe, hash } = session.loaded;
  return {
    status,
    recall: state.metrics ? summaryRecall(state.metrics, recipe.evaluation.recall_at) : {},
    metrics: state.metrics ?? {},
    best: state.best,
    epochs: Math.min(state.epoch, recipe.training.epochs),
    steps: state.step,
    backend: at.backend,
    device: at.device,
    samples_per_s: state.seconds > 0 ? state.samples / state.seconds : 0,
    seconds: at.seconds,
    recipe: recipe.name,
    recipe_hash: hash,
    run_dir: at.runDir,
    ...(at.baselines ? { baselines: at.baselines } : {}),
    ...(at.kinds ? { kinds: at.kinds } : {}),
    ...(at.pretrained ? { pretrained: at.pretrained } : {}),
    ...missingImagesSummary(session.dataset.missingImages),
  };
}

/** summary.json's record of a data.missing_images: skip run, and whether its recall is comparable to published numbers. */
function missingImagesSummary(record: MissingImagesRecord | undefined): Pick<RunSummary, "missing_images" | "comparable_to_published"> {
  return record ? { missing_images: record, comparable_to_published: record.comparable } : {};
}
