// Registers the tfjs backend `torch` (once per process): the backend factory, its native
// kernels, and a cpu-fallback kernel for every other kernel the cpu backend has.
import * as tf from "@tensorflow/tfjs";

import { TorchBackend } from "./backend.js";
import { cpuKernel } from "./fallback.js";
import { torchKernels } from "./kernels/index.js";
import { staleLayouts } from "./kernels/layouts.js";
import { loadAddon, TorchNative } from "./native.js";
import { UserError } from "../../util/errors.js";

export const torchBackendName = "torch";

let registered: { device: string } | undefined;

/** The device the torch backend uses: SDFN_TORCH_DEVICE (cpu, cuda, cuda:N), else CUDA when libtorch has it. */
export function torchDevice(): string {
  const loaded = loadAddon();
  if ("error" in loaded) throw new Error(`backend torch: ${loaded.error}`);
  return process.env.SDFN_TORCH_DEVICE ?? (loaded.addon.info().cuda ? "cuda" : "cpu");
}

/** Values of SDFN_TORCH_CONV_FORMAT, the memory format of CPU forward convolutions (native/README.md). */
export const convFormats = ["auto", "nchw", "channels_last"] as const;

function checkConvFormat(): void {
  const value = process.env.SDFN_TORCH_CONV_FORMAT;
  if (value && !(convFormats as readonly string[]).includes(value)) {
    throw new UserError(`SDFN_TORCH_CONV_FORMAT=${value}: must be one of ${convFormats.join(", ")} (unset means auto)`);
  }
}

/** Registers backend `torch` with tfjs; throws an error that says how to build the addon when it is missing. */
export function registerTorchBackend(): { device: string } {
  if (registered) return registered;
  checkConvFormat();
  const loaded = loadAddon();
  if ("error" in loaded) throw new Error(`backend torch: ${loaded.error}`);
  const device = torchDevice();
  const threads = Number(process.env.SDFN_TORCH_THREADS ?? 0);
  if (threads > 0) loaded.addon.setThreads(threads);
  const native = new TorchNative(loaded.addon, device);
  const nativeNames = new Set(native.kernels());
  const names = new Set<string>();
  for (const k of torchKernels) {
    if (optionalNative.has(k.kernelName) && !nativeNames.has(k.kernelName)) continue; // an addon older than the kernel
    names.add(k.kernelName);
    tf.registerKernel({ ...k, backendName: torchBackendName });
  }
  for (const k of tf.getKernelsForBackend("cpu")) {
    if (!names.has(k.kernelName)) tf.registerKernel({ kernelName: k.kernelName, backendName: torchBackendName, kernelFunc: cpuKernel(k.kernelName) });
  }
  // A JS kernel that calls a native kernel the addon does not have means a stale build.
  const missing = torchKernels.flatMap((k) => nativeKernelOf(k.kernelName)).filter((n) => !nativeNames.has(n));
  if (missing.length) throw new Error(`backend torch: the native addon lacks ${missing.join(", ")}; rebuild it with \`npm run build:native\``);
  const stale = staleLayouts(native, torchKernels.flatMap((k) => nativeKernelOf(k.kernelName)).filter((n) => nativeNames.has(n)));
  if (stale.length) throw new Error(`backend torch: the native addon was built against other argument layouts of ${stale.join(", ")} than src/backend/torch/kernels/layouts.json; rebuild it with \`npm run build:native\``);
  tf.registerBackend(torchBackendName, () => new TorchBackend(native), 0);
  registered = { device };
  return registered;
}

// Kernels an older addon may lack: left unregistered then (their callers fall back).
const optionalNative = new Set(["SdfnDropoutMask"]);

// JS kernels whose native counterpart has another name (fused and depthwise variants share one).
const aliases: Record<string, string[]> = {
  Identity: [],
  ExpandDims: ["Reshape"],
  FusedConv2D: ["Conv2D"],
  DepthwiseConv2dNative: ["Conv2D"],
  FusedDepthwiseConv2D: ["Conv2D"],
  DepthwiseConv2dNativeBackpropInput: ["Conv2DBackpropInput"],
  DepthwiseConv2dNativeBackpropFilter: ["Conv2DBackpropFilter"],
  _FusedMatMul: ["BatchMatMul"],
};

/** The native kernels a JS kernel of this backend calls. */
export function nativeKernelOf(kernel: string): string[] {
  return aliases[kernel] ?? [kernel];
}

/** Kernel names the torch backend runs natively (for tests and `sdfn doctor`). */
export function nativeKernelNames(): string[] {
  return torchKernels.map((k) => k.kernelName);
}
