// The order a training program replays its kernels in, the first half of its memory plan. The
// eager step reads its packed losses back after the backward pass and then updates every
// parameter, so all gradients are alive at once (as PyTorch's .grad until optimizer.step). The
// losses are known when the forward pass ends: a program reads them there (the update still runs
// only when they are finite, as eagerly) and then runs each update as soon as the backward pass
// is done with what it reads, so each gradient dies right after its last use (as with PyTorch's
// post-accumulate-grad hooks). Kernels are moved, never changed: each still reads what it read.
import { kernelLayouts } from "../kernels/layouts.js";
import type { ProgramPlan } from "./plan.js";
import type { Capture } from "./recorder.js";

/** The replay order (position → recorded kernel index) and where the packed losses are read back. */
export interface Schedule {
  order: number[];
  readbackAt: number;
}

/**
 * Kernels whose relative order is their meaning: the step generator's draws and the collectives
 * across ranks (layouts.json families random and dist). An update phase holding one stays as recorded.
 */
const ordered = (kernel: string) => ["random", "dist"].includes(kernelLayouts().get(kernel)?.family ?? "");

const recorded = (c: Capture): Schedule => ({ order: c.kernels.map((_, k) => k), readbackAt: c.result.at });

/**
 * The earliest point after which the packed losses can be read: the result is made, and so is
 * every state the forward pass assigns (batch-norm statistics, bound back even when an update is
 * skipped, so they must not fall behind the readback).
 */
function earliestReadback(c: Capture, producer: Map<number, number>): number {
  let at = (producer.get(c.result.slot) ?? -1) + 1;
  for (const s of c.states) if (s.out >= 0 && s.madeAt < c.result.at) at = Math.max(at, s.madeAt + 1);
  return at;
}

/** The training program's replay order; an inference forward (no readback) keeps its recorded order. */
export function schedule(c: Capture): Schedule {
  const R = c.result.at;
  if (c.result.slot < 0 || R >= c.kernels.length || c.kernels.slice(R).some((kn) => ordered(kn.name))) return recorded(c);
  const producer = new Map<number, number>();
  c.kernels.forEach((kn, k) => kn.outputs.forEach((s) => producer.set(s, k)));
  const readbackAt = earliestReadback(c, producer); // ≥ 1: a kernel makes the result
  // The backward pass (readbackAt ≤ k < R): the last of its kernels to read or make each slot.
  const lastInBackward = new Map<number, number>();
  for (let k = readbackAt; k < R; k++) for (const s of [...c.kernels[k]!.inputs, ...c.kernels[k]!.outputs]) if (s >= 0) lastInBackward.set(s, k);
  // Each update after the backward kernel it waits for (readbackAt − 1: none), and after the updates it reads from.
  const after = new Map<number, number>();
  for (let u = R; u < c.kernels.length; u++) {
    let at = readbackAt - 1;
    for (const s of c.kernels[u]!.inputs) {
      if (s < 0) continue;
      at = Math.max(at, lastInBackward.get(s) ?? -1);
      const made = producer.get(s);
      if (made !== undefined && made >= R) at = Math.max(at, after.get(made)!);
    }
    after.set(u, at);
  }
  const updatesAfter = new Map<number, number[]>(); // in recorded order: an update's producers come first
  for (const [u, at] of after) updatesAfter.set(at, [...(updatesAfter.get(at) ?? []), u]);
  const order: number[] = [];
  for (let k = 0; k < R; k++) order.push(k, ...(updatesAfter.get(k) ?? []));
  return { order, readbackAt };
}

/** The plan with its kernels in `s`'s order: attributes bound to step scalars, states' makers and the readback follow them. */
export function reorder(p: ProgramPlan, s: Schedule): ProgramPlan {
  const c = p.capture;
  const position = new Map(s.order.map((k, at) => [k, at]));
  const moved = (k: number) => (k < 0 ? k : position.get(k)!);
  const capture: Capture = {
    ...c,
    kernels: s.order.map((k) => c.kernels[k]!),
    states: c.states.map((st) => ({ ...st, madeAt: moved(st.madeAt) })),
    result: { ...c.result, at: s.readbackAt },
  };
  return { ...p, capture, bindings: p.bindings.map((b) => ({ ...b, kernel: moved(b.kernel) })) };
}
