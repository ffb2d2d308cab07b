// The self-path-distillation teacher cache: every training sample's path
// prediction (its routing distributions, flattened), recorded in epoch e and
// read as the teacher in epoch e+1. Shapes: L layers of M modules; a sample's
// record holds (L−1)·M·M hidden-layer probabilities, then the M output weights.
// Both generations live on the device as (N, P+1) tables indexed by sample id (the
// last column is 1 where the sample has a record): the step gathers its batch's
// teacher and writes its batch's paths inside it, so a compiled step replays both.
import * as tf from "@tensorflow/tfjs";

import { rowsUpdate } from "../backend/rows-update.js";

export interface PathShape {
  layers: number; // L
  modules: number; // M
}

/** Values per sample: (L−1)·M² + M. */
export const pathWidth = ({ layers, modules }: PathShape) => (layers - 1) * modules * modules + modules;

/** (B, P) flattened paths → the network's path tensors: (B, M, M) × (L−1), then (B, M, 1). */
export function unflattenPaths(flat: tf.Tensor2D, shape: PathShape): tf.Tensor3D[] {
  return tf.tidy(() => {
    const { layers, modules: m } = shape;
    const b = flat.shape[0];
    const sizes = [...new Array<number>(layers - 1).fill(m * m), m];
    return tf.split(flat, sizes, 1).map((part, l) => part.reshape(l < layers - 1 ? [b, m, m] : [b, m, 1]) as tf.Tensor3D);
  });
}

/** (B, P): the network's path tensors flattened per sample (the inverse of unflattenPaths). */
export function flattenPaths(paths: readonly tf.Tensor3D[]): tf.Tensor2D {
  return tf.tidy(() => tf.concat(paths.map((p) => p.reshape([p.shape[0], -1])), 1) as tf.Tensor2D);
}

type Generation = "previous" | "current";
type CheckpointTensors = Record<string, { shape: number[]; data: Float32Array | Int32Array }>;

/** Two generations of per-sample records on the device: `previous` (read) and `current` (being written). */
export class PathCache {
  private readonly tables: Record<Generation, tf.Variable>;
  /** Whether `previous` holds any record (known without a readback: records are only written by steps). */
  private previousHasRecords = false;
  private currentHasRecords = false;

  /** `samples`: training pairs (ids run 0 … samples − 1). */
  constructor(
    readonly shape: PathShape,
    readonly samples: number,
  ) {
    this.tables = { previous: this.emptyVariable(), current: this.emptyVariable() };
  }

  get width(): number {
    return pathWidth(this.shape);
  }

  /** Whether a step would find a teacher (some sample has a record from the previous epoch). */
  get hasTeacher(): boolean {
    return this.previousHasRecords;
  }

  /** Teacher paths and mask of a batch, gathered on the device: uniform paths and mask 0 where a sample has no record. */
  teacher(ids: tf.Tensor1D): { paths: tf.Tensor3D[]; mask: tf.Tensor1D } {
    const w = this.width;
    const [flat, mask] = tf.tidy(() => {
      const rows = tf.gather(this.tables.previous, ids);
      return [rows.slice([0, 0], [-1, w]) as tf.Tensor2D, rows.slice([0, w], [-1, 1]).reshape([-1]) as tf.Tensor1D];
    });
    const paths = unflattenPaths(flat, this.shape);
    flat.dispose();
    return { paths, mask };
  }

  /** Writes a batch's flattened paths (B, P) as this epoch's records of `ids`, on the device. */
  record(ids: tf.Tensor1D, flat: tf.Tensor2D): void {
    const table = this.tables.current;
    const next = tf.tidy(() => rowsUpdate(table as tf.Tensor2D, ids, tf.concat([flat, tf.onesLike(flat.slice([0, 0], [-1, 1]))], 1) as tf.Tensor2D));
    table.assign(next);
    next.dispose();
    this.currentHasRecords = true;
  }

  /** This epoch's records of `ids` (B·P values, read back; zeros past the paths where none was made). */
  recorded(ids: readonly number[]): Float32Array {
    if (ids.length === 0) return new Float32Array(0);
    const w = this.width;
    return tf.tidy(() => tf.gather(this.tables.current, tf.tensor1d(this.checked(ids), "int32")).slice([0, 0], [-1, w]).dataSync() as Float32Array);
  }

  /** Records made elsewhere (another rank's samples, B·P values) into this epoch's table. */
  insert(ids: readonly number[], values: Float32Array): void {
    if (ids.length === 0) return;
    tf.tidy(() => this.record(tf.tensor1d(this.checked(ids), "int32"), tf.tensor2d(values, [ids.length, this.width])));
  }

  /** At the end of an epoch: what was recorded becomes the teacher; the next epoch records anew. */
  advance(): void {
    this.tables.previous.assign(this.tables.current); // shares the data; the next write to `current` makes a new one
    const empty = this.emptyTable();
    this.tables.current.assign(empty);
    empty.dispose();
    this.previousHasRecords = this.currentHasRecords;
    this.currentHasRecords = false;
  }

  /** Tensors for a checkpoint: ids and values of both generations (read back). */
  toTensors(): CheckpointTensors {
    const out: CheckpointTensors = {};
    const w = this.width;
    for (const gen of ["previous", "current"] as const) {
      const table = this.tables[gen].dataSync() as Float32Array;
      const ids: number[] = [];
      for (let id = 0; id < this.samples; id++) if (table[id * (w + 1) + w] === 1) ids.push(id);
      const values = new Float32Array(ids.length * w);
      ids.forEach((id, i) => values.set(table.subarray(id * (w + 1), id * (w + 1) + w), i * w));
      out[`spd.${gen}.ids`] = { shape: [ids.length], data: Int32Array.from(ids) };
      out[`spd.${gen}.values`] = { shape: [ids.length, w], data: values };
    }
    return out;
  }

  /** Restores both generations from checkpoint tensors. */
  load(tensors: Record<string, { data: Float32Array | Int32Array | Uint8Array }>): void {
    const w = this.width;
    for (const gen of ["previous", "current"] as const) {
      const ids = tensors[`spd.${gen}.ids`];
      const values = tensors[`spd.${gen}.values`];
      const table = this.emptyValues();
      const count = ids && values ? ids.data.length : 0;
      for (let i = 0; i < count; i++) {
        const id = this.checked([ids!.data[i]!])[0]!;
        table.set(values!.data.subarray(i * w, (i + 1) * w), id * (w + 1));
        table[id * (w + 1) + w] = 1;
      }
      const t = tf.tensor2d(table, [this.samples, w + 1]);
      this.tables[gen].assign(t);
      t.dispose();
      if (gen === "previous") this.previousHasRecords = count > 0;
      else this.currentHasRecords = count > 0;
    }
  }

  dispose(): void {
    tf.dispose([this.tables.previous, this.tables.current]);
  }

  /** `ids`, refused when one is not a training sample's id. */
  checked(ids: readonly number[]): number[] {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.samples) {
        throw new Error(`path-distillation cache: sample id ${id} is outside the ${this.samples} training pairs (pair ids must index the training set)`);
      }
    }
    return [...ids];
  }

  /** Table values without records: uniform paths (1/M; masked out, but finite in the loss), flag 0. */
  private emptyValues(): Float32Array {
    const w = this.width;
    const values = new Float32Array(this.samples * (w + 1)).fill(1 / this.shape.modules);
    for (let id = 0; id < this.samples; id++) values[id * (w + 1) + w] = 0;
    return values;
  }

  private emptyTable(): tf.Tensor2D {
    return tf.tensor2d(this.emptyValues(), [this.samples, this.width + 1]);
  }

  private emptyVariable(): tf.Variable {
    const empty = this.emptyTable();
    const v = tf.variable(empty, false);
    empty.dispose();
    return v;
  }
}
