// The memory plan of a program: after which kernel each slot can be let go. A recorded eager step
// frees what tfjs frees, at the end of its gradient scope, so every activation of the forward pass
// lives until the backward pass is over (tfjs's tape); a program knows each slot's last reader in
// advance and releases it right there, as PyTorch's autograd frees a saved tensor once the last
// backward function needing it has run. The native replay (native/src/program.cc) releases the
// slots of kernel k as k starts (the call then holds its dying inputs alone, so a kernel on the
// in-place list may write its result into one: native/src/program-decode.cc decides which).
import type { Capture } from "./recorder.js";

/** A slot's value alive from the kernel making it (−1: bound before the first kernel) to its last use. */
export interface Lifetime {
  slot: number;
  from: number;
  /** The kernel after (or, for a dying input, during) which the replay releases it; Infinity: kept to the end. */
  to: number;
}

/**
 * Slots kept to the end of a replay: the declared outputs (handed back) and the state's new values
 * (bound back to the variables), and the packed result when it is read after the last kernel.
 */
function keptSlots(c: Capture): Set<number> {
  const kept = new Set<number>([...c.outputs, ...c.states.flatMap((s) => (s.out >= 0 ? [s.out] : []))]);
  if (c.result.slot >= 0 && c.result.at >= c.kernels.length) kept.add(c.result.slot);
  return kept;
}

/** Every slot the program uses, with the kernel at which the replay may let it go. */
export function lifetimes(c: Capture): Lifetime[] {
  const from = new Map<number, number>();
  const to = new Map<number, number>();
  c.kernels.forEach((kn, k) => {
    for (const s of kn.inputs) {
      if (s < 0) continue;
      if (!from.has(s)) from.set(s, -1); // bound before the first kernel: an input, state or constant
      to.set(s, k);
    }
    for (const s of kn.outputs) {
      from.set(s, k);
      to.set(s, k); // an output nobody reads goes right after the kernel making it
    }
  });
  // The packed result is read back before kernel `result.at` runs: it lives at least until then.
  if (c.result.slot >= 0 && to.has(c.result.slot)) to.set(c.result.slot, Math.max(to.get(c.result.slot)!, c.result.at));
  const kept = keptSlots(c);
  return [...from].map(([slot, start]) => ({ slot, from: start, to: kept.has(slot) ? Infinity : to.get(slot)! }));
}

/** release[k]: the slots the replay lets go at kernel k (their last use). */
export function releases(c: Capture): number[][] {
  const release: number[][] = c.kernels.map(() => []);
  for (const l of lifetimes(c)) if (Number.isFinite(l.to)) release[l.to]!.push(l.slot);
  return release;
}

