// The self-path-distillation teacher cache: every training sample's path
// prediction (its routing distributions, flattened), recorded in epoch e and
// read as the teacher in epoch e+1. Shapes: L layers of M modules; a sample's
// record holds (L−1)·M·M hidden-layer probabilities, then the M output weights.
import * as tf from "@tensorflow/tfjs";

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

/** Two generations of per-sample records: `previous` (read) and `current` (being written). */
export class PathCache {
  previous = new Map<number, Float32Array>();
  current = new Map<number, Float32Array>();

  constructor(readonly shape: PathShape) {}

  get width(): number {
    return pathWidth(this.shape);
  }

  /** Stores row i of `values` (B·P, row-major) as sample ids[i]'s record for this epoch. */
  record(ids: readonly number[], values: Float32Array): void {
    const w = this.width;
    ids.forEach((id, i) => this.current.set(id, values.slice(i * w, (i + 1) * w)));
  }

  /** Teacher paths for a batch, or null when no sample has a record from the previous epoch. */
  teacher(ids: readonly number[]): { paths: tf.Tensor3D[]; mask: tf.Tensor1D } | null {
    if (!ids.some((id) => this.previous.has(id))) return null;
    const w = this.width;
    const flat = new Float32Array(ids.length * w).fill(1 / this.shape.modules); // uniform where missing (masked out)
    const mask = new Float32Array(ids.length);
    ids.forEach((id, i) => {
      const rec = this.previous.get(id);
      if (rec) {
        flat.set(rec, i * w);
        mask[i] = 1;
      }
    });
    const t = tf.tensor2d(flat, [ids.length, w]);
    const paths = unflattenPaths(t, this.shape);
    t.dispose();
    return { paths, mask: tf.tensor1d(mask) };
  }

  /** At the end of an epoch: what was recorded becomes the teacher. */
  advance(): void {
    this.previous = this.current;
    this.current = new Map();
  }

  /** Tensors for a checkpoint: ids and values of both generations. */
  toTensors(): Record<string, { shape: number[]; data: Float32Array | Int32Array }> {
    const out: Record<string, { shape: number[]; data: Float32Array | Int32Array }> = {};
    for (const [gen, map] of [["previous", this.previous], ["current", this.current]] as const) {
      const ids = [...map.keys()];
      const values = new Float32Array(ids.length * this.width);
      ids.forEach((id, i) => values.set(map.get(id)!, i * this.width));
      out[`spd.${gen}.ids`] = { shape: [ids.length], data: Int32Array.from(ids) };
      out[`spd.${gen}.values`] = { shape: [ids.length, this.width], data: values };
    }
    return out;
  }

  /** Restores both generations from checkpoint tensors. */
  load(tensors: Record<string, { data: Float32Array | Int32Array | Uint8Array }>): void {
    for (const gen of ["previous", "current"] as const) {
      const ids = tensors[`spd.${gen}.ids`];
      const values = tensors[`spd.${gen}.values`];
      const map = new Map<number, Float32Array>();
      if (ids && values) {
        Array.from(ids.data).forEach((id, i) => map.set(id, Float32Array.from(values.data.subarray(i * this.width, (i + 1) * this.width))));
      }
      this[gen] = map;
    }
  }
}
