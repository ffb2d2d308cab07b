// Two recorded captures of one step (or forward) as one program: they must agree (same kernels,
// attributes, constants; float attributes that differ must carry a declared step scalar), and
// the second, with its step-scalar bindings, is what ./program.ts encodes.
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
