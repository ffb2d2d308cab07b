// The path-distillation teacher of a run: none, the cache of last epoch's own
// paths ("cache"), or a frozen copy of last epoch's weights ("frozen"). The loop
// asks it for a batch's teacher, records the batch's paths, hands the epoch over,
// and saves/restores it with the checkpoint's state file.
import * as tf from "@tensorflow/tfjs";
import type { TrainBatch } from "../data/types.js";
import type { Network } from "../graph/compile.js";
import { inference } from "../nn/context.js";
import { loadStoreTensors, storeTensors, type StoreTensors } from "../nn/store-io.js";
import type { SafeTensor } from "../io/safetensors.js";
import type { NamedLoss } from "./step.js";
import { PathCache } from "./path-cache.js";

export type TeacherKind = "cache" | "frozen" | null;
export type BatchTeacher = { paths: tf.Tensor3D[]; mask: tf.Tensor1D };

export interface Teacher {
  readonly kind: TeacherKind;
  /** The batch's teacher (the caller disposes it), or null (first epoch, or no distillation). */
  forBatch(batch: Pick<TrainBatch, "reference" | "tokens" | "mask" | "ids">): BatchTeacher | null;
  /** The batch's flattened paths, read back by the step when `kind` is "cache". */
  record(ids: readonly number[], paths: Float32Array): void;
  /** End of an epoch: this epoch's paths (or weights) teach the next. */
  advance(student: Network): void;
  /** Tensors for the checkpoint's state file. */
  save(): Promise<StoreTensors>;
  /** Restores `save`'s tensors; `epoch` is the epoch a resume starts (a frozen teacher exists after the first). */
  load(state: Record<string, SafeTensor>, where: string, epoch: number): void;
}

/** The teacher the losses ask for; `twin` builds the frozen copy when one is needed (the caller disposes it). */
export function createTeacher(losses: readonly NamedLoss[], net: Network, twin: () => Network): Teacher {
  const kind: TeacherKind = losses.find((l) => l.loss.teacher)?.loss.teacher ?? null;
  const cache = new PathCache({ layers: net.layers.length, modules: net.layers[0]?.length ?? 0 });
  const frozen = kind === "frozen" ? twin() : null;
  let frozenReady = false;
  return {
    kind,
    forBatch(batch) {
      if (frozen && frozenReady) return frozenTeacher(frozen, batch);
      return kind === "cache" ? cache.teacher(batch.ids) : null;
    },
    record: (ids, paths) => cache.record(ids, paths),
    advance(student) {
      cache.advance();
      if (frozen) {
        copyWeights(student, frozen);
        frozenReady = true;
      }
    },
    async save() {
      return { ...cache.toTensors(), ...(frozen && frozenReady ? await storeTensors(frozen.store, "teacher.") : {}) };
    },
    load(state, where, epoch) {
      cache.load(state);
      if (frozen && epoch > 0) {
        loadStoreTensors(frozen.store, state, where, "teacher.");
        frozenReady = true;
      }
    },
  };
}

/** Teacher paths from the frozen copy of last epoch's weights (inference mode). */
function frozenTeacher(frozen: Network, batch: Pick<TrainBatch, "reference" | "tokens" | "mask" | "ids">): BatchTeacher {
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
