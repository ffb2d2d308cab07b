// A session: what a loaded recipe becomes before anything runs — its dataset,
// its network (with a checkpoint's weights when given), its losses, and on first
// use its optimizer and schedule. `sdfn build`, `eval`, `query`, the bench and the
// reference exporter all open one, so the recipe is built in one place.
import type { OpenDataset, Progress, Vocabulary } from "../data/index.js";
import { batchesPerEpoch, type EpochBatching } from "../data/epoch-batches.js";
import { compileNetwork, type CompileOptions, type Network } from "../graph/compile.js";
import { loadStoreTensors } from "../nn/store-io.js";
import { RecipeError, type LoadedRecipe } from "../recipe/index.js";
import { recallBeyondGallery } from "../recipe/cross-checks.js";
import type { Optimizer, Schedule } from "../registry/kinds-training.js";
import type { NamedLoss } from "../train/step.js";
import type { LoadedCheckpoint } from "./checkpoint.js";
import { UserError } from "../util/errors.js";
import { PretrainedFileError } from "../encoders/pretrained.js";

export interface SessionOptions {
  /** The vocabulary to use (a run's, or a synthetic `{ size, words }` with `dataset: false`); default: built from the training captions. */
  vocabulary?: Vocabulary | CompileOptions["vocabulary"];
  /** Weights to load into the network and the losses (every parameter must be there). */
  checkpoint?: Pick<LoadedCheckpoint, "weights" | "path">;
  /** false: no dataset (the caller brings its own inputs; `vocabulary` is then required). Default true. */
  dataset?: boolean;
  /** Relative data paths (data.root, encoder weights, GloVe) resolve against it; default process.cwd(). */
  cwd?: string;
  /** Ranks of a data-parallel run (src/dist); default 1. */
  world?: number;
  /** Training: run data.check_images (full: every image decoded once before anything is written), reporting progress. */
  checkImages?: { onProgress?: (p: Progress) => void };
}

export interface Session {
  loaded: LoadedRecipe;
  /** The recipe's dataset (throws when opened with `dataset: false`). */
  readonly dataset: OpenDataset;
  /** The network's vocabulary (the dataset's, when it was opened). */
  vocabulary: CompileOptions["vocabulary"];
  network: Network;
  /** The recipe's losses, their parameters under `losses.<type>` in the network's store. */
  losses: NamedLoss[];
  /** The recipe's optimizer over the trainable variables (built on first use). */
  readonly optimizer: Optimizer;
  /** The recipe's schedule over the dataset's steps per epoch (built on first use). */
  readonly schedule: Schedule;
  /** How the recipe cuts an epoch into batches (src/data/epoch-batches.ts; global batches in a data-parallel run). */
  readonly batching: EpochBatching;
  /** Steps in one epoch of the training set: its batches (0: none; the trainer refuses that). */
  readonly stepsPerEpoch: number;
  /** Another network of the same recipe and vocabulary (the frozen distillation teacher: it copies the student's weights before use, so no pretrained file is read); disposed with the session. */
  twin(): Network;
  /** Frees `part` (a compiled evaluation forward, say) with the session, before its network; returns it. */
  own<T extends { dispose(): void } | undefined>(part: T): T;
  /** Frees every tensor the session made. */
  dispose(): void;
}

/** Opens `loaded`'s dataset, network, losses (and lazily optimizer and schedule). Throws DataError for bad data. */
export async function openSession(loaded: LoadedRecipe, opts: SessionOptions = {}): Promise<Session> {
  const { recipe, registry } = loaded;
  let dataset: OpenDataset | null = null;
  if (opts.dataset !== false) {
    const { openDataset } = await import("../data/index.js");
    const given = opts.vocabulary && "encode" in opts.vocabulary ? opts.vocabulary : undefined;
    const vocabulary = given ?? encoderTokenizer(loaded, opts.cwd ?? process.cwd());
    const check = opts.checkImages ? { checkImages: true, onProgress: opts.checkImages.onProgress } : {};
    dataset = await openDataset(recipe, registry, { vocabulary, cwd: opts.cwd, allowOutsideRoot: loaded.allowOutsideRoot, ...check });
    checkRecallWithinGalleries(loaded, dataset);
  }
  const vocabulary = dataset?.vocabulary ?? opts.vocabulary;
  if (!vocabulary) throw new Error("openSession: a session without a dataset needs a vocabulary");
  // Pretrained files are read once, into the network a run starts from: a checkpoint sets every
  // weight (eval, query, --resume), and the frozen teacher's twin gets the student's weights.
  const files = { vocabulary, filesDir: opts.cwd ?? process.cwd() };
  const compile = () => compileNetwork(recipe, registry, { ...files, pretrained: false });
  const network = compileNetwork(recipe, registry, { ...files, pretrained: !opts.checkpoint });
  const disposers: (() => void)[] = [() => network.dispose()];
  const dispose = () => {
    for (const d of disposers.splice(0).reverse()) d();
  };
  try {
    const root = network.store.root();
    const losses = recipe.losses.map((entry, i) => ({
      name: entry.type,
      loss: registry.build("loss", entry, { dim: network.dim, scope: root.child(`losses.${entry.type}`) }, `losses.${i}`),
    }));
    if (opts.checkpoint) {
      checkSameNetwork(network, opts.checkpoint);
      try {
        loadStoreTensors(network.store, opts.checkpoint.weights, opts.checkpoint.path);
      } catch (err) {
        throw new UserError(`${(err as Error).message}; ${OTHER_NETWORK}`); // a tensor missing or of another shape: the file is not this network's
      }
    }
    return sessionOf({ loaded, dataset, vocabulary, network, losses, compile, disposers, dispose, world: opts.world ?? 1 });
  } catch (err) {
    dispose();
    throw err;
  }
}

/**
 * The text encoder's own tokenizer (CLIP's BPE) when it declares one, truncating to data.max_words;
 * undefined: the dataset builds a vocabulary of the training words. A missing or unreadable
 * merges file is reported at its recipe key (exit 2).
 */
function encoderTokenizer(loaded: LoadedRecipe, cwd: string): Vocabulary | undefined {
  const { recipe, registry } = loaded;
  const { declaration, params } = registry.resolve("text_encoder", recipe.encoders.text, "encoders.text");
  if (!declaration.tokenizer) return undefined;
  const maxTokens = Number(registry.resolve("dataset", recipe.data, "data").params.max_words ?? 32);
  try {
    return declaration.tokenizer(params, { filesDir: cwd, maxTokens });
  } catch (err) {
    throw err instanceof PretrainedFileError ? err.at("encoders.text") : err;
  }
}

/** Recall@K at or beyond an evaluation gallery's size (known once the annotation files are read) is a recipe problem at its recall_at entry. */
function checkRecallWithinGalleries(loaded: LoadedRecipe, dataset: OpenDataset): void {
  const galleries = dataset.evalSets.map((set) => ({ name: set.name, size: set.gallery.length }));
  const problems = recallBeyondGallery(loaded.recipe.evaluation.recall_at, galleries, (path, message) => loaded.locate(path, message));
  if (problems.length) throw new RecipeError(problems);
}

/** A checkpoint with tensors this network lacks is another network's (e.g. `eval --recipe` of a changed recipe): refuse rather than drop them. */
function checkSameNetwork(network: Network, checkpoint: Pick<LoadedCheckpoint, "weights" | "path">): void {
  const extra = Object.keys(checkpoint.weights).filter((name) => !network.store.variables.has(name));
  if (extra.length === 0) return;
  throw new UserError(
    `${checkpoint.path}: the checkpoint holds ${extra.length} tensor(s) this recipe's network does not have (${extra.slice(0, 3).join(", ")}${extra.length > 3 ? ", …" : ""}): ` +
      OTHER_NETWORK,
  );
}

const OTHER_NETWORK = "the recipe describes another network than the run's; use the run's own recipe (omit --recipe) or one that differs only outside the network";

interface Parts {
  loaded: LoadedRecipe;
  dataset: OpenDataset | null;
  vocabulary: CompileOptions["vocabulary"];
  network: Network;
  losses: NamedLoss[];
  compile: () => Network;
  disposers: (() => void)[];
  dispose: () => void;
  world: number;
}

function sessionOf(p: Parts): Session {
  const t = p.loaded.recipe.training;
  const { registry } = p.loaded;
  let optimizer: Optimizer | null = null;
  let schedule: Schedule | null = null;
  const needDataset = (): OpenDataset => {
    if (!p.dataset) throw new Error("this session was opened without its dataset");
    return p.dataset;
  };
  return {
    loaded: p.loaded,
    vocabulary: p.vocabulary,
    network: p.network,
    losses: p.losses,
    get dataset() {
      return needDataset();
    },
    get batching() {
      // A data-parallel epoch has global steps of world × batch_size, the last incomplete one dropped.
      return { size: t.batch_size * p.world, dropLast: t.drop_last || p.world > 1, maxBatches: t.max_steps_per_epoch };
    },
    get stepsPerEpoch() {
      return batchesPerEpoch(needDataset().train.length, this.batching);
    },
    get optimizer() {
      if (!optimizer) {
        const trainable = [...p.network.store.variables].filter(([, v]) => v.trainable);
        const built = registry.build("optimizer", t.optimizer, { variables: new Map(trainable), lrMults: p.network.lrMults }, "training.optimizer");
        p.disposers.push(() => built.dispose());
        optimizer = built;
      }
      return optimizer;
    },
    get schedule() {
      if (!schedule) {
        const baseLr = Number(registry.resolve("optimizer", t.optimizer, "training.optimizer").params.lr);
        const ctx = { baseLr, epochs: t.epochs, stepsPerEpoch: this.stepsPerEpoch };
        schedule = registry.build("schedule", t.schedule, ctx, "training.schedule");
      }
      return schedule;
    },
    twin() {
      const net = p.compile();
      p.disposers.push(() => net.dispose());
      return net;
    },
    own(part) {
      if (part) p.disposers.push(() => part.dispose());
      return part;
    },
    dispose: p.dispose,
  };
}
