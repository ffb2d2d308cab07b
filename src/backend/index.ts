// Choosing the tfjs backend: `auto` prefers the native libtorch backend (CUDA, then CPU), then
// tfjs-node (`tensorflow`, only when the user installed it), then wasm (a dependency, so every
// Node-only install has it; it trains with the gradient kernels tfjs-backend-wasm 4.22 lacks,
// registered from src/backend/wasm/, about 3× the pure-JS cpu's samples/s), then cpu.
// Optional backends are imported dynamically; none of them is a dependency.
import * as tf from "@tensorflow/tfjs";

import { cpuFacts, type CpuFacts } from "./cpu-facts.js";
import { loadAddon, type TorchInfo } from "./torch/native.js";
import { registerTorchBackend } from "./torch/register.js";
import { registerCompositeKernels } from "./composite.js";
import { registerWasmGradients } from "./wasm/register.js";

export { adamStep, type AdamStepOptions } from "./adam-step.js";
export { batchNormTrain } from "./batch-norm.js";
export { rowsUpdate } from "./rows-update.js";
export { fallbackCounts, resetFallbackCounts } from "./torch/fallback.js";
export { nativeKernelNames } from "./torch/register.js";
export { precisions, setPrecision, type Precision } from "./precision.js";

export const backendNames = ["auto", "cpu", "torch", "wasm", "tensorflow", "webgpu"] as const;
export type BackendName = (typeof backendNames)[number];

/** Order tried by `auto` (backends that can train every built-in network). webgpu is chosen only by name. */
const autoOrder = ["torch", "tensorflow", "wasm", "cpu"] as const;

export interface BackendAvailability {
  name: string;
  available: boolean;
  /** Why not, when unavailable. */
  why?: string;
  /** What it runs on when available, e.g. "cuda", "cpu", "libtorch 1.13.1 (cpu)". */
  device?: string;
}

// Bare specifiers kept in variables so the type checker does not require the optional packages.
const optional = {
  tfjsNode: "@tensorflow/tfjs-node",
  tfjsNodeGpu: "@tensorflow/tfjs-node-gpu",
  wasm: "@tensorflow/tfjs-backend-wasm",
  webgpu: "webgpu",
  tfjsWebgpu: "@tensorflow/tfjs-backend-webgpu",
};

function resolvable(specifier: string): boolean {
  try {
    import.meta.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

/** The addon's info(), or why it cannot give it (an unknown SDFN_TORCH_CONV_FORMAT, say). */
function torchInfo(): { info: TorchInfo } | { error: string } {
  const loaded = loadAddon();
  if ("error" in loaded) return { error: loaded.error };
  try {
    return { info: loaded.addon.info() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

async function torchStatus(): Promise<BackendAvailability> {
  const got = torchInfo();
  if ("error" in got) return { name: "torch", available: false, why: got.error };
  const { info } = got;
  const device = process.env.SDFN_TORCH_DEVICE ?? (info.cuda ? "cuda" : "cpu");
  return { name: "torch", available: true, device: `${device} (libtorch ${info.version}, ${info.cuda ? `${info.cudaDevices} CUDA device(s)` : "no CUDA"})` };
}

function tensorflowStatus(): BackendAvailability {
  if (resolvable(optional.tfjsNodeGpu)) return { name: "tensorflow", available: true, device: "gpu (@tensorflow/tfjs-node-gpu)" };
  if (resolvable(optional.tfjsNode)) return { name: "tensorflow", available: true, device: "cpu (@tensorflow/tfjs-node)" };
  return { name: "tensorflow", available: false, why: "@tensorflow/tfjs-node is not installed (optional: `npm install @tensorflow/tfjs-node@4.22.0`; its install downloads libtensorflow)" };
}

function wasmStatus(): BackendAvailability {
  if (resolvable(optional.wasm)) return { name: "wasm", available: true, device: "cpu (WebAssembly)" };
  return { name: "wasm", available: false, why: "@tensorflow/tfjs-backend-wasm is not installed (`npm install @tensorflow/tfjs-backend-wasm@4.22.0`)" };
}

/** Installs Dawn's WebGPU (the `webgpu` package) as navigator.gpu and returns an adapter, if any. */
async function webgpuAdapter(): Promise<{ adapter?: unknown; why?: string }> {
  const missing = [optional.webgpu, optional.tfjsWebgpu].filter((m) => !resolvable(m));
  if (missing.length) return { why: `${missing.join(" and ")} not installed (\`npm install webgpu @tensorflow/tfjs-backend-webgpu@4.22.0\`)` };
  try {
    const dawn = (await import(optional.webgpu)) as { create(opts: string[]): { requestAdapter(): Promise<unknown> }; globals: object };
    const g = globalThis as Record<string, unknown>;
    Object.assign(g, dawn.globals);
    const gpu = dawn.create([]);
    if (!g.navigator || !(g.navigator as { gpu?: unknown }).gpu) Object.defineProperty(g, "navigator", { value: { gpu }, configurable: true });
    const adapter = await gpu.requestAdapter();
    return adapter ? { adapter } : { why: "no WebGPU adapter (no GPU, or no Vulkan driver for it)" };
  } catch (err) {
    return { why: `the webgpu package failed to start: ${(err as Error).message}` };
  }
}

/** Each backend sdfn can use, whether it is available here, and why not. */
export async function backendStatus(): Promise<BackendAvailability[]> {
  const webgpu = await webgpuAdapter();
  return [
    { name: "cpu", available: true, device: "cpu (pure JavaScript)" },
    await torchStatus(),
    tensorflowStatus(),
    wasmStatus(),
    webgpu.adapter ? { name: "webgpu", available: true, device: "gpu (Dawn)" } : { name: "webgpu", available: false, why: webgpu.why },
  ];
}

/** The machine facts behind numerical results, for bug reports (`sdfn doctor`). */
export interface MachineFacts {
  cpu: CpuFacts;
  /** How the torch addon's CPU kernels run here; absent without the addon (or from an addon older than these fields). */
  torchCpu?: { onednnVersion: string; onednnIsa: string; atenCapability: string; convFormat: string };
}

export function machineFacts(): MachineFacts {
  const got = torchInfo();
  const info = "info" in got && got.info.convFormat !== undefined ? got.info : undefined;
  return {
    cpu: cpuFacts(),
    ...(info && {
      torchCpu: {
        onednnVersion: info.onednnVersion ?? "",
        onednnIsa: info.onednnIsa ?? "",
        atenCapability: info.atenCapability ?? "",
        convFormat: info.convFormat ?? "auto",
      },
    }),
  };
}

/** The backend `auto` starts given these statuses: the first available of torch, tensorflow, wasm, cpu. */
export function autoChoice(status: readonly BackendAvailability[]): string {
  return autoOrder.find((name) => status.find((s) => s.name === name)?.available) ?? "cpu";
}

async function activate(name: Exclude<BackendName, "auto">): Promise<{ name: string; device: string }> {
  switch (name) {
    case "cpu":
      await tf.setBackend("cpu");
      // The cpu backend's first write prints "install tfjs-node" (which cannot be installed here);
      // `sdfn doctor` gives the real advice (the torch backend), so mark that first use as done.
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      return { name, device: "cpu" };
    case "torch": {
      const { device } = registerTorchBackend();
      if (!(await tf.setBackend("torch"))) throw new Error("backend torch: tfjs could not initialise the backend");
      return { name, device };
    }
    case "tensorflow": {
      const status = tensorflowStatus();
      if (!status.available) throw new Error(`backend tensorflow: ${status.why}`);
      await import(resolvable(optional.tfjsNodeGpu) ? optional.tfjsNodeGpu : optional.tfjsNode);
      if (!(await tf.setBackend("tensorflow"))) {
        throw new Error("backend tensorflow: tfjs-node loaded but did not register with this @tensorflow/tfjs (versions must match 4.22.0)");
      }
      return { name, device: status.device!.split(" ")[0] };
    }
    case "wasm": {
      await import(optional.wasm);
      if (!(await tf.setBackend("wasm"))) throw new Error("backend wasm: tfjs could not initialise the WebAssembly backend");
      registerWasmGradients(); // the gradient kernels tfjs-backend-wasm lacks, so that it trains
      return { name, device: "cpu" };
    }
    case "webgpu": {
      const { adapter, why } = await webgpuAdapter();
      if (!adapter) throw new Error(`backend webgpu: not available: ${why}`);
      await import(optional.tfjsWebgpu);
      if (!(await tf.setBackend("webgpu"))) throw new Error("backend webgpu: tfjs could not initialise the WebGPU backend");
      return { name, device: "gpu" };
    }
  }
}

// The active backend runs sdfn's own kernels natively or gets their written-out formulas.
function withComposites<T>(active: T): T {
  registerCompositeKernels(tf.getBackend());
  return active;
}

/**
 * Makes `name` the active tfjs backend and says what it runs on. `auto` takes the first that
 * works of torch (CUDA, else CPU), tensorflow, wasm, cpu. Throws, saying how to fix it, when the
 * named backend is unavailable.
 */
export async function useBackend(name: string): Promise<{ name: string; device: string }> {
  if (!(backendNames as readonly string[]).includes(name)) {
    throw new Error(`unknown backend "${name}": expected one of ${backendNames.join(", ")}`);
  }
  if (name !== "auto") return withComposites(await activate(name as Exclude<BackendName, "auto">));
  const failures: string[] = [];
  for (const candidate of autoOrder) {
    if (candidate === "tensorflow" && !tensorflowStatus().available) continue;
    try {
      return withComposites(await activate(candidate));
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  throw new Error(`no backend could be started:\n  ${failures.join("\n  ")}`);
}
