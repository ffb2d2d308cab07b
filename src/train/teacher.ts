// The path-distillation teacher of a run: none, the cache of last epoch's own
// paths ("cache"), or a frozen copy of last epoch's weights ("frozen"). The loop
// asks it for a batch's step teacher (run inside the step: the cache is read and
// written on the device, the frozen network's forward is part of the step), hands
// the epoch over, and saves/restores it with the checkpoint's state file.
import * as tf from "@tensorflow/tfjs";
import type { TrainBatch } from "../data/types.js";
import type { Network } from "../graph/compile.js";
import { inference } from "../nn/context.js";
import { loadStoreTensors, storeTensors, type StoreTensors } from "../nn/store-io.js";
import type { SafeTensor } from "../io/safetensors.js";
import type { BatchTeacher, NamedLoss, StepTeacher } from "./step.js";
import { PathCache } from "./path-cache.js";

export type TeacherKind = "cache" | "frozen" | null;

/** A step's teacher and what it owns (the batch's sample ids on the device): disposed after the step. */
export type OwnedStepTeacher = NonNullable<StepTeacher> & { dispose(): void };

export interface Teacher {
  readonly kind: TeacherKind;
  /** The teacher of the step on `batch` (the caller disposes it after the step), or null (no distillation). */
  forBatch(batch: Pick<TrainBatch, "ids">): OwnedStepTeacher | null;
  /** This epoch's records of `ids` (read back; distributed runs share them with the other ranks). */
  recorded(ids: readonly number[]): Float32Array;
  /** Records made elsewhere (another rank's samples) into this epoch's records. */
  insert(ids: readonly number[], paths: Float32Array): void;
  /** End of an epoch: this epoch's paths (or weights) teach the next. */
  advance(student: Network): void;
  /** Tensors for the checkpoint's state file. */
  save(): Promise<StoreTensors>;
  /** Restores `save`'s tensors; `epoch` is the epoch a resume starts (a frozen teacher exists after the first). */
  load(state: Record<string, SafeTensor>, where: string, epoch: number): void;
  dispose(): void;
}

/** The teacher the losses ask for over `samples` training pairs; `twin` builds the frozen copy when one is needed. */
export function createTeacher(losses: readonly NamedLoss[], net: Network, samples: number, twin: () => Network): Teacher {
  const kind: TeacherKind = losses.find((l) => l.loss.teacher)?.loss.teacher ?? null;
  const cache = kind === "cache" ? new PathCache({ layers: net.layers.length, modules: net.layers[0]?.length ?? 0 }, samples) : null;
  const frozen = kind === "frozen" ? twin() : null;
  let frozenReady = false;
  return {
    kind,
    forBatch(batch) {
      if (frozen) return frozenReady ? frozenTeacher(frozen) : null;
      return cache ? cacheTeacher(cache, batch.ids) : null;
    },
    recorded: (ids) => cache?.recorded(ids) ?? new Float32Array(0),
    insert: (ids, paths) => cache?.insert(ids, paths),
    advance(student) {
      cache?.advance();
      if (frozen) {
        copyWeights(student, frozen);
        frozenReady = true;
      }
    },
    async save() {
      return { ...(cache?.toTensors() ?? {}), ...(frozen && frozenReady ? await storeTensors(frozen.store, "teacher.") : {}) };
    },
    load(state, where, epoch) {
      cache?.load(state);
      if (frozen && epoch > 0) {
        loadStoreTensors(frozen.store, state, where, "teacher.");
        frozenReady = true;
      }
    },
    dispose: () => cache?.dispose(), // (the frozen twin is the session's)
  };
}

/** The cache's step teacher: the batch's ids go up with the batch; the step gathers last epoch's records and writes its own. */
export function cacheTeacher(cache: PathCache, ids: readonly number[]): OwnedStepTeacher {
  const onDevice = tf.tensor1d(cache.checked(ids), "int32");
  const reads = cache.hasTeacher;
  return {
    inputs: [onDevice],
    signature: reads ? "cache+teacher" : "cache",
    read: () => (reads ? cache.teacher(onDevice) : null),
    write: (flat) => cache.record(onDevice, flat),
    dispose: () => onDevice.dispose(),
  };
}

/** Teacher paths from the frozen copy of last epoch's weights (inference mode), computed inside the step. */
function frozenTeacher(frozen: Network): OwnedStepTeacher {
  return {
    inputs: [],
    signature: "frozen",
    read(batch) {
      const paths = tf.tidy(() => frozen.encodeQuery({ reference: batch.reference, tokens: batch.tokens, mask: batch.mask }, inference).paths);
      return { paths, mask: tf.ones([batch.ids.length]) as tf.Tensor1D };
    },
    dispose() {},
  };
}

/**
 * teacher ← student, by parameter name (the teacher has no loss parameters), as copies: a
 * teacher sharing the student's tensors would make the first step after the hand-over read
 * other tensors than the next (so its capture would not match), and keep the student's first
 * update of each from running in place.
 */
function copyWeights(from: Network, to: Network) {
  for (const [name, v] of to.store.variables) {
    const src = from.store.variables.get(name);
    if (!src) continue;
    const copy = tf.add(src, 0); // x + 0 is x exactly
    v.assign(copy);
    copy.dispose();
  }
}
