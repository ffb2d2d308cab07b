// Peak memory over a part of a bench run: the process's resident set (Linux: VmHWM of
// /proc/self/status, whose high-water mark /proc/self/clear_refs resets — getrusage's maxRSS with
// it, so the whole process's peak is kept across resets here; elsewhere the whole process's,
// from getrusage) and, on the torch backend, the bytes of live tensors counted by the addon's
// allocator (memoryStats: every ATen tensor on the working device, CPU or CUDA).
import { readFileSync, writeFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";

import type { TorchBackend } from "../src/backend/torch/backend.js";

/** The process's peak before the last reset (MiB). */
let beforeReset = 0;

/** Starts a new high-water mark of the resident set at its current size; false where the process cannot (then the whole run's peak counts). */
export function resetPeakRss(): boolean {
  const peak = peakRssMiB();
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    beforeReset = Math.max(beforeReset, peak);
    return true;
  } catch {
    return false;
  }
}

/** The resident set's high-water mark (MiB) since the last reset. */
export function peakRssMiB(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // not Linux: getrusage below
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** The whole process's resident-set peak (MiB), resets or not. */
export function processPeakRssMiB(): number {
  return Math.max(beforeReset, peakRssMiB());
}

/** The torch addon's tensor accounting, when this backend and build have it. */
function tensorStats(): { reset(): void; peakMiB(): number } | null {
  if (tf.getBackend() !== "torch") return null;
  const addon = (tf.backend() as TorchBackend).native.addon;
  if (!addon.memoryStats || !addon.resetMemoryPeak || !addon.memoryStats()[2]) return null;
  return { reset: () => addon.resetMemoryPeak!(), peakMiB: () => addon.memoryStats!()[1] / 2 ** 20 };
}

/**
 * Peak tensor MiB while `fn` runs: the addon's allocator on torch (what the tensors really took,
 * views and in-place writes included), else tf.profile's peak bytes (tfjs's own accounting).
 */
export async function peakTensorMiB(fn: () => Promise<void>): Promise<number> {
  const native = tensorStats();
  if (!native) return (await tf.profile(fn)).peakBytes / 2 ** 20;
  native.reset();
  await fn();
  return native.peakMiB();
}
