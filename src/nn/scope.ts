// Named, seeded parameters. Every trainable tensor of a network lives in one
// ParamStore under a dotted name ("fusion.layer1.CAM.attn.q.weight"), so
// checkpoints, safetensors export and the PyTorch reference share one naming.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng.js";

/** Fills a Float32Array of `size` values for a tensor of `shape`. */
export type Init = (rng: Rng, shape: readonly number[]) => Float32Array;

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export const zeros: Init = (_rng, shape) => new Float32Array(sizeOf(shape));
export const ones: Init = (_rng, shape) => new Float32Array(sizeOf(shape)).fill(1);
export const constant =
  (value: number): Init =>
  (_rng, shape) =>
    new Float32Array(sizeOf(shape)).fill(value);
/** N(0, std²) by Box–Muller, two values per pair of uniforms (plain loops: fast for 10⁸ values). */
export const normal =
  (std: number): Init =>
  (rng, shape) => {
    const out = new Float32Array(sizeOf(shape));
    for (let i = 0; i < out.length; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - rng.next())) * std;
      const angle = 2 * Math.PI * rng.next();
      out[i] = r * Math.cos(angle);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(angle);
    }
    return out;
  };
export const uniform =
  (limit: number): Init =>
  (rng, shape) => {
    const out = new Float32Array(sizeOf(shape));
    for (let i = 0; i < out.length; i++) out[i] = (rng.next() * 2 - 1) * limit;
    return out;
  };
/** Glorot/Xavier uniform for a weight whose last two dims are (fanIn, fanOut) times a receptive field. */
export const glorotUniform = (fanIn: number, fanOut: number): Init => uniform(Math.sqrt(6 / (fanIn + fanOut)));
/** He/Kaiming normal (fan-in, ReLU gain). */
export const heNormal = (fanIn: number): Init => normal(Math.sqrt(2 / fanIn));

let nextStoreId = 0;

/** Owns every parameter of a network, by name, and the RNG that initialises them. */
export class ParamStore {
  readonly variables = new Map<string, tf.Variable>();
  readonly rng: Rng;
  /** tfjs registers variables by a process-global name: this suffix keeps two stores apart. */
  readonly uid = `s${nextStoreId++}`;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  root(): ParamScope {
    return new ParamScope(this, "");
  }

  /** Trainable variables in creation order (stable across runs). */
  trainable(): tf.Variable[] {
    return [...this.variables.values()].filter((v) => v.trainable);
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}

/** A name prefix inside a ParamStore. */
export class ParamScope {
  constructor(
    readonly store: ParamStore,
    readonly path: string,
  ) {}

  child(name: string): ParamScope {
    return new ParamScope(this.store, this.qualify(name));
  }

  qualify(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  /** Creates the variable `path.name`; a repeated name is a programming error. */
  param(name: string, shape: number[], init: Init, trainable = true): tf.Variable {
    const full = this.qualify(name);
    if (this.store.variables.has(full)) throw new Error(`parameter "${full}" is defined twice`);
    const values = init(this.store.rng, shape);
    const variable = tf.tidy(() =>
      tf.variable(tf.tensor(values, shape, "float32"), trainable, `${full}@${this.store.uid}`),
    );
    this.store.variables.set(full, variable);
    return variable;
  }
}
