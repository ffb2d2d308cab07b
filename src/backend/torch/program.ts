// A compiled training step on the torch backend: two recorded captures of the same step are
// compared (same kernels, same attributes, same constants; float attributes that differ must
// carry a declared step scalar), encoded once into a native program, and replayed by one
// N-API call per step (native/src/program.cc). An inference forward's program has outputs (tensors
// handed back on the device) and no readback.
import * as tf from "@tensorflow/tfjs";

import type { TorchBackend } from "./backend.js";
import { dtypeCodes } from "./native.js";
import type { Capture, RecordedKernel, RecordedUpload } from "./recorder.js";

/** A float attribute that takes a step scalar: kernel index, attribute index, scalar index. */
interface Binding {
  kernel: number;
  float: number;
  scalar: number;
}

/**
 * Two captures as one program: the second capture, and which float attributes follow which
 * scalar. Only a scalar that changed between the captures is bound (a constant attribute may
 * equal it by chance); one that did not is pinned: the program serves only while it keeps that value.
 */
export interface ProgramPlan {
  capture: Capture;
  bindings: Binding[];
  scalarNames: string[];
  pinned: Map<string, number>;
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.prototype.every.call(a, (x: number, k: number) => Object.is(x, b[k]));

const shapeText = (shape: readonly number[]) => `[${shape.join(", ")}]`;

function kernelDifference(a: RecordedKernel, b: RecordedKernel, k: number): string | null {
  if (a.op !== b.op) return `kernel ${k} is ${a.name} in one step and ${b.name} in the next`;
  if (!same(a.inputs, b.inputs) || !same(a.outputs, b.outputs)) return `kernel ${k} (${a.name}) reads or makes other tensors in the next step`;
  if (!same(a.ints, b.ints)) return `kernel ${k} (${a.name}) has integer attributes [${a.ints}] in one step and [${b.ints}] in the next`;
  if (a.floats.length !== b.floats.length) return `kernel ${k} (${a.name}) has another number of float attributes in the next step`;
  return null;
}

function uploadDifference(a: RecordedUpload, b: RecordedUpload, readers: Map<number, string>): string | null {
  if (a.slot !== b.slot || a.dtype !== b.dtype || !same(a.shape, b.shape)) return `an upload of shape ${shapeText(a.shape)} has no counterpart in the next step`;
  if (!same(a.values, b.values)) {
    return `an uploaded ${a.dtype} tensor of shape ${shapeText(a.shape)} (read by ${readers.get(a.slot) ?? "no kernel"}) holds other values in the next step; make it a declared input`;
  }
  return null;
}

/** Why captures `a` and `b` of one step cannot be one program (null when they can). */
export function captureDifference(a: Capture, b: Capture): string | null {
  if (a.kernels.length !== b.kernels.length) return `the step ran ${a.kernels.length} kernels, then ${b.kernels.length}`;
  if (a.slots !== b.slots) return `the step made ${a.slots} tensors, then ${b.slots}`;
  for (let k = 0; k < a.kernels.length; k++) {
    const d = kernelDifference(a.kernels[k]!, b.kernels[k]!, k);
    if (d) return d;
  }
  if (a.uploads.length !== b.uploads.length) return `the step uploaded ${a.uploads.length} tensors, then ${b.uploads.length}`;
  const readers = new Map<number, string>();
  for (const kn of b.kernels) for (const s of kn.inputs) if (!readers.has(s)) readers.set(s, kn.name);
  for (let k = 0; k < a.uploads.length; k++) {
    const d = uploadDifference(a.uploads[k]!, b.uploads[k]!, readers);
    if (d) return d;
  }
  const frees = (c: Capture) => c.frees.flatMap((f) => [f.slot, f.at]);
  if (!same(frees(a), frees(b))) return "the step frees other tensors in the next step";
  if (a.result.slot !== b.result.slot || a.result.at !== b.result.at || a.result.size !== b.result.size) return "the packed losses are read at another point in the next step";
  if (!same(a.outputs, b.outputs)) return "the step hands back other tensors in the next step";
  if (!same(a.inputs, b.inputs)) return "the step reads other declared inputs in the next step";
  const states = (c: Capture) => c.states.map((s) => `${s.variable.name}:${s.in}:${s.out}`).join(",");
  if (states(a) !== states(b)) return "the step reads or assigns other variables in the next step";
  if (a.held.length !== b.held.length || a.held.some((h, k) => h.dataId !== b.held[k]!.dataId || h.slot !== b.held[k]!.slot)) {
    return "the step reads a tensor made outside it that is not the same in the next step (an undeclared input)";
  }
  return null;
}

/** Binds each float attribute that carries a declared step scalar; an undeclared one that changed refuses the plan. */
export function plan(a: Capture, b: Capture): ProgramPlan | string {
  const difference = captureDifference(a, b);
  if (difference) return difference;
  const scalarNames = [...b.scalars.keys()].filter((n) => !Object.is(a.scalars.get(n), b.scalars.get(n)));
  const pinned = new Map([...b.scalars].filter(([n]) => !scalarNames.includes(n)));
  const bindings: Binding[] = [];
  for (let k = 0; k < b.kernels.length; k++) {
    const fa = a.kernels[k]!.floats;
    const fb = b.kernels[k]!.floats;
    for (let j = 0; j < fb.length; j++) {
      const scalar = scalarNames.findIndex((n) => Object.is(a.scalars.get(n), fa[j]) && Object.is(b.scalars.get(n), fb[j]));
      if (scalar >= 0) bindings.push({ kernel: k, float: j, scalar });
      else if (!Object.is(fa[j], fb[j])) {
        return `kernel ${k} (${b.kernels[k]!.name}) float attribute ${j} is ${fa[j]} in one step and ${fb[j]} in the next, and no declared step scalar carries it`;
      }
    }
  }
  return { capture: b, bindings, scalarNames, pinned };
}

/** The Int32Array/Float64Array encoding native/src/program.cc `decode` reads. */
function encode(p: ProgramPlan, backend: TorchBackend, guard: number): { code: Int32Array; floats: Float64Array; uploads: RecordedUpload["values"][] } {
  const c = p.capture;
  const code: number[] = [];
  const floats: number[] = [];
  const used = c.inputs.filter((s) => s >= 0);
  const prelude = c.frees.filter((f) => f.at === 0).map((f) => f.slot);
  code.push(c.slots, c.kernels.length, used.length, c.states.length, c.held.length, c.uploads.length, prelude.length, c.result.slot, c.result.at, guard);
  code.push(...used);
  for (const s of c.states) code.push(s.in, s.out, s.madeAt);
  for (const h of c.held) code.push(h.slot, backend.handle({ dataId: h.dataId, shape: [], dtype: "float32" }));
  for (const u of c.uploads) code.push(u.slot, dtypeCodes[u.dtype], u.shape.length, ...u.shape);
  code.push(...prelude);
  const drops = new Map<number, number[]>();
  for (const f of c.frees) if (f.at > 0) drops.set(f.at - 1, [...(drops.get(f.at - 1) ?? []), f.slot]);
  c.kernels.forEach((kn, k) => {
    const bound = p.bindings.filter((b) => b.kernel === k);
    code.push(kn.op, kn.inputs.length, ...kn.inputs, kn.ints.length, ...kn.ints, kn.floats.length, bound.length);
    for (const b of bound) code.push(b.float, b.scalar);
    const drop = drops.get(k) ?? [];
    code.push(kn.outputs.length, ...kn.outputs, drop.length, ...drop);
    floats.push(...kn.floats);
  });
  code.push(c.outputs.length, ...c.outputs);
  return { code: Int32Array.from(code), floats: Float64Array.from(floats), uploads: c.uploads.map((u) => u.values) };
}

/** One replayable step: `replay` runs it natively on the current batch, variables and step scalars. */
export class StepProgram {
  readonly kernels: number;
  /** Update kernels in the step (Adam's SdfnAdamStep, the distillation cache's SdfnRowsUpdate): a replay runs each in place when it owns what it updates. */
  readonly updates: number;
  private readonly id: number;
  private readonly usedInputs: number[];
  private readonly handles: Int32Array;
  private readonly scalars: Float64Array;
  private disposed = false;

  constructor(
    private readonly backend: TorchBackend,
    private readonly p: ProgramPlan,
    guard: number,
  ) {
    const { code, floats, uploads } = encode(p, backend, guard);
    this.id = backend.native.addon.programCreate(code, floats, uploads);
    this.kernels = p.capture.kernels.length;
    this.updates = p.capture.kernels.filter((k) => k.name === "SdfnAdamStep" || k.name === "SdfnRowsUpdate").length;
    this.usedInputs = p.capture.inputs.flatMap((s, k) => (s >= 0 ? [k] : []));
    this.handles = new Int32Array(this.usedInputs.length + p.capture.states.length);
    this.scalars = new Float64Array(Math.max(1, p.scalarNames.length));
  }

  /** Whether this step's scalars keep the values the program pinned. */
  accepts(scalars: Readonly<Record<string, number>>): boolean {
    for (const [name, value] of this.p.pinned) if (!Object.is(scalars[name], value)) return false;
    return true;
  }

  /**
   * Runs the step: inputs in the declared order; returns the packed losses, whether the update ran
   * (true without a readback) and the declared outputs as new tensors (the caller's to dispose).
   */
  replay(inputs: readonly tf.Tensor[], scalars: Readonly<Record<string, number>>, seed: number): { values: Float32Array; finite: boolean; outputs: tf.Tensor[] } {
    const b = this.backend;
    this.usedInputs.forEach((k, j) => (this.handles[j] = b.handle(inputs[k]!)));
    const n = this.usedInputs.length;
    this.p.capture.states.forEach((s, j) => {
      // The replay binds new values to the variable's handle: a value shared with another variable is copied apart first.
      if (s.out >= 0 && b.shared(s.variable)) tf.tidy(() => s.variable.assign(tf.reshape(s.variable, s.variable.shape)));
      this.handles[n + j] = b.handle(s.variable);
    });
    this.p.scalarNames.forEach((name, k) => {
      const v = scalars[name];
      if (v === undefined) throw new Error(`compiled step: the step scalar "${name}" was not given`);
      this.scalars[k] = v;
    });
    const values = new Float32Array(this.p.capture.result.size);
    const finite = b.native.addon.programReplay(this.id, this.handles, this.scalars, seed >>> 0, values);
    const outputs = finite ? b.adoptOutputs(this.p.capture.outputs.length).map((info) => tf.engine().makeTensorFromTensorInfo(info, b)) : [];
    return { values, finite, outputs };
  }

  /** Replays so far, their host overhead (µs per kernel outside the kernels' ATen calls) and the updates run in place. */
  stats(): { replays: number; hostMicrosPerKernel: number; inPlaceUpdates: number } {
    const [kernels, replays, totalNs, kernelNs, inPlace] = this.backend.native.addon.programStats(this.id);
    return { replays, hostMicrosPerKernel: replays && kernels ? (totalNs - kernelNs) / 1e3 / replays / kernels : NaN, inPlaceUpdates: inPlace ?? 0 };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.backend.native.addon.programFree(this.id);
  }
}
