// Records one eager step at the torch backend's exec seam: every kernel call, upload, free and
// readback, over numbered slots (one per tensor value, so reused native handles never alias).
// `finish` classifies what the step read from outside: declared inputs, variables (state) and
// constants, and what it hands back (an inference forward's outputs, which stay on the device);
// ./plan.ts compares two such captures, ./memory-plan.ts decides when each slot dies, and
// ./program.ts compiles them.
import * as tf from "@tensorflow/tfjs";

import type { Recording } from "../../replay-contract.js";
import type { NativeDtype } from "../native.js";

type Values = Float32Array | Int32Array | Uint8Array;

export interface RecordedKernel {
  op: number;
  name: string;
  inputs: number[]; // slots, -1 for an absent input
  ints: number[];
  floats: number[];
  outputs: number[];
}

export interface RecordedUpload {
  slot: number;
  values: Values;
  shape: number[];
  dtype: NativeDtype;
}

interface Outside {
  slot: number;
  dataId: object;
  handle: number;
  shape: number[];
  freed: boolean;
}

/** A variable the step reads (`in`) or assigns (`out`, made by kernel `madeAt`); -1 when it does not. */
export interface StateSlot {
  variable: tf.Variable;
  in: number;
  out: number;
  madeAt: number;
}

/** One recorded step, its outside tensors classified. */
export interface Capture {
  slots: number;
  kernels: RecordedKernel[];
  uploads: RecordedUpload[];
  /** The packed result read back after `at` kernels, and its size (slot -1: no readback). */
  result: { slot: number; at: number; size: number };
  /** Slots of the declared outputs: tensors made in the step that a replay hands back (inference). */
  outputs: number[];
  /** Slot of each declared input (-1 when the step does not read it). */
  inputs: number[];
  states: StateSlot[];
  /** Outside tensors the program keeps (identical in every step): slot, dataId, handle. */
  held: { slot: number; dataId: object; handle: number }[];
  /** Step scalars the step declared (src/backend/step-scalars.ts), by name. */
  scalars: Map<string, number>;
}

const describe = (shape: readonly number[]) => `[${shape.join(", ")}]`;

export class Recorder implements Recording {
  refusal: string | null = null;
  /** The refusal may not recur in the next step (a tensor cached on first use, say). */
  transient = false;
  private slots = 0;
  private readonly kernels: RecordedKernel[] = [];
  private readonly uploads: RecordedUpload[] = [];
  private readonly live = new Map<number, number>(); // handle → slot, for tensors made in the step
  private readonly shapes = new Map<number, number[]>(); // slot → shape
  private readonly madeBy = new Map<number, number>(); // slot → kernel index (-1: uploaded)
  private readonly outside = new Map<object, Outside>(); // dataId → tensor from before the step
  private readonly outsideByHandle = new Map<number, Outside>();
  private readonly scalars = new Map<string, number>();
  private readonly startIds = new Map<tf.Variable, object>();
  private result: { slot: number; at: number; size: number } | null = null;
  private expected: object | null = null;

  constructor() {
    for (const v of Object.values(tf.engine().registeredVariables)) this.startIds.set(v, v.dataId);
  }

  get kernelCount(): number {
    return this.kernels.length;
  }

  refuse(reason: string, transient = false): void {
    if (this.refusal) return;
    this.refusal = reason;
    this.transient = transient;
  }

  /** The one readback the step may make (its packed losses). */
  expectResult(t: tf.Tensor): void {
    this.expected = t.dataId;
  }

  declareScalars(values: Record<string, number>): void {
    for (const [name, value] of Object.entries(values)) this.scalars.set(name, value);
  }

  /** The slot of a kernel input (its handle is live in the step, or it comes from outside). */
  input(t: tf.TensorInfo, handle: number): number {
    const made = this.live.get(handle);
    if (made !== undefined) return made;
    let o = this.outside.get(t.dataId);
    if (!o) {
      o = { slot: this.newSlot(t.shape), dataId: t.dataId, handle, shape: t.shape, freed: false };
      this.outside.set(t.dataId, o);
      this.outsideByHandle.set(handle, o);
    }
    return o.slot;
  }

  kernel(op: number, name: string, inputs: number[], ints: ArrayLike<number>, floats: ArrayLike<number>, outputs: tf.TensorInfo[], handles: number[]): void {
    const slots = outputs.map((t, k) => this.made(handles[k]!, t.shape, this.kernels.length));
    this.kernels.push({ op, name, inputs, ints: Array.from(ints), floats: Array.from(floats), outputs: slots });
  }

  upload(handle: number, values: Values, shape: number[], dtype: NativeDtype): void {
    const slot = this.made(handle, shape, -1);
    this.uploads.push({ slot, values: values.slice(), shape: shape.slice(), dtype });
  }

  /** A tensor freed in the step (when the replay frees it is the memory plan's to say, not this). */
  free(handle: number): void {
    if (this.live.delete(handle)) return;
    const o = this.outsideByHandle.get(handle);
    if (!o) return; // never read in the step
    this.outsideByHandle.delete(handle);
    o.freed = true;
  }

  read(dataId: object, handle: number, size: number): void {
    const slot = this.live.get(handle);
    if (dataId === this.expected && slot !== undefined && !this.result) {
      this.result = { slot, at: this.kernels.length, size };
      return;
    }
    this.refuse(`a readback of a tensor of ${size} values inside the step (only the packed losses may be read)`);
  }

  /**
   * Classifies the outside tensors: `declared` are the step's inputs, variables its state, the rest
   * constants. A training step reads its packed losses back; a forward with `outputs` reads nothing
   * and hands those tensors (made in it) back instead.
   */
  finish(declared: readonly tf.Tensor[], outputs: readonly tf.Tensor[] = []): Capture {
    if (!this.result && outputs.length === 0) this.refuse("the step never read its packed losses back");
    const outputSlots = this.outputSlots(outputs);
    const declaredAt = new Map(declared.map((t, k) => [t.dataId, k]));
    const inputs = declared.map(() => -1);
    const states = this.stateSlots();
    const stateIn = new Set(states.map((s) => s.in));
    const held: Capture["held"] = [];
    for (const o of this.outside.values()) {
      const k = declaredAt.get(o.dataId);
      if (k !== undefined) inputs[k] = o.slot;
      else if (stateIn.has(o.slot)) continue;
      else if (o.freed) this.refuse(`an undeclared input of shape ${describe(o.shape)}, made before the step and freed inside it`);
      else held.push({ slot: o.slot, dataId: o.dataId, handle: o.handle });
    }
    const kept = new Set([...states.map((s) => s.out), ...outputSlots]);
    const leftover = [...this.live.values()].filter((s) => !kept.has(s));
    if (leftover.length) this.refuse(`${leftover.length} tensor(s) made in the step outlive it (the first of shape ${describe(this.shapes.get(leftover[0]!)!)})`, true);
    const result = this.result ?? { slot: -1, at: 0, size: 0 };
    return { slots: this.slots, kernels: this.kernels, uploads: this.uploads, result, outputs: outputSlots, inputs, states, held, scalars: this.scalars };
  }

  private outputSlots(outputs: readonly tf.Tensor[]): number[] {
    const backend = tf.engine().backend as unknown as { handle(t: tf.TensorInfo): number };
    return outputs.map((t) => {
      const slot = this.live.get(backend.handle(t));
      if (slot === undefined) this.refuse(`an output of shape ${describe(t.shape)} is not made in the forward (an input or a variable handed back)`);
      return slot ?? -1;
    });
  }

  private stateSlots(): StateSlot[] {
    const states: StateSlot[] = [];
    const backend = tf.engine().backend as unknown as { handle(t: tf.TensorInfo): number };
    for (const [variable, startId] of this.startIds) {
      if (variable.isDisposed) continue;
      const read = this.outside.get(startId)?.slot ?? -1;
      let out = -1;
      if (variable.dataId !== startId) {
        const slot = this.live.get(backend.handle(variable));
        if (slot === undefined) {
          this.refuse(`variable ${variable.name} was assigned a tensor not made in the step`);
          continue;
        }
        out = slot;
      }
      if (read >= 0 || out >= 0) states.push({ variable, in: read, out, madeAt: out >= 0 ? this.madeBy.get(out)! : -1 });
    }
    return states;
  }

  private newSlot(shape: number[]): number {
    this.shapes.set(this.slots, shape);
    return this.slots++;
  }

  private made(handle: number, shape: number[], by: number): number {
    const slot = this.newSlot(shape);
    this.live.set(handle, slot);
    this.madeBy.set(slot, by);
    return slot;
  }
}
