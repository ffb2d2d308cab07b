// Kernels the addon lacks run on tfjs's cpu backend: inputs are copied out of ATen, the cpu
// kernel runs, outputs are copied back. Each such kernel is counted and warned about once
// (process.emitWarning, code SDFN_TORCH_FALLBACK), so slow paths in a training step are visible.
import * as tf from "@tensorflow/tfjs";
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from "@tensorflow/tfjs";

import type { TorchBackend } from "./backend.js";

const counts = new Map<string, number>();

/** How often each kernel ran through the cpu backend in this process (kernel name → calls). */
export function fallbackCounts(): Record<string, number> {
  return Object.fromEntries(counts);
}

/** Clears the counts (the warning is still given only once per kernel and process). */
export function resetFallbackCounts(): void {
  counts.clear();
}

const warned = new Set<string>();

function note(kernel: string): void {
  counts.set(kernel, (counts.get(kernel) ?? 0) + 1);
  if (warned.has(kernel)) return;
  warned.add(kernel);
  process.emitWarning(
    `torch backend: kernel ${kernel} has no native implementation for these inputs; it runs on the cpu backend (copies in and out)`,
    { code: "SDFN_TORCH_FALLBACK" },
  );
}

/** Runs tfjs's cpu kernel `kernel` on torch-held inputs; `label` names the case in counts/warnings. */
export function runOnCpu(
  backend: TorchBackend,
  kernel: string,
  args: { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap },
  label = kernel,
): TensorInfo | TensorInfo[] {
  note(label);
  backend.recorder?.refuse(`kernel ${label} runs on the cpu backend (a fallback a replay cannot run)`);
  const cpu = tf.findBackend("cpu") as tf.KernelBackend | null;
  const config = tf.getKernel(kernel, "cpu");
  if (!cpu || !config) throw new Error(`torch backend: kernel ${kernel} is implemented neither natively nor on the cpu backend`);
  const cpuInputs: NamedTensorInfoMap = Array.isArray(args.inputs) ? ([] as unknown as NamedTensorInfoMap) : {};
  const created: TensorInfo[] = [];
  for (const [key, t] of Object.entries(args.inputs)) {
    if (t == null) {
      cpuInputs[key] = t;
      continue;
    }
    const info = { dataId: cpu.write(backend.readSync(t.dataId), t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
    created.push(info);
    cpuInputs[key] = info;
  }
  const result = config.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs: args.attrs });
  const outs = Array.isArray(result) ? result : [result];
  const moved = outs.map((o) => ({ dataId: backend.write(cpu.readSync(o.dataId), o.shape, o.dtype), shape: o.shape, dtype: o.dtype }));
  for (const o of outs) cpu.disposeData(o.dataId);
  for (const c of created) cpu.disposeData(c.dataId);
  return Array.isArray(result) ? moved : moved[0];
}

/** A torch kernel that always runs through the cpu backend. */
export function cpuKernel(kernel: string): KernelFunc {
  return ({ inputs, backend, attrs }) => runOnCpu(backend as TorchBackend, kernel, { inputs, attrs });
}
