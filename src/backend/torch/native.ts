// Loads the compiled libtorch addon (native/build/sdfn_torch.node, built by `npm run build:native`)
// and owns the typed arrays it shares with JS: integer/float arguments in, output records out.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** What libtorch offers here (addon.cc Info); the CPU fields are absent from builds older than them. */
export interface TorchInfo {
  version: string;
  cuda: boolean;
  cudaDevices: number;
  threads: number;
  /** oneDNN's version and the ISA it dispatches to ("" when libtorch's oneDNN is not visible). */
  onednnVersion?: string;
  onednnIsa?: string;
  /** ATen's vectorised CPU kernels: "AVX2", "AVX512", "DEFAULT". */
  atenCapability?: string;
  /** SDFN_TORCH_CONV_FORMAT as the addon read it. */
  convFormat?: string;
}

/** The functions native/src/addon.cc exports. */
export interface TorchAddon {
  /** `layouts[k]`: the argument layout op k was compiled against (layouts.json; absent before it existed). */
  init(meta: Int32Array, ints: Int32Array, floats: Float64Array, device: string): { ops: string[]; layouts?: string[] };
  info(): TorchInfo;
  upload(values: Float32Array | Int32Array | Uint8Array, dtype: number, rank: number): number;
  download(handle: number, out: Float32Array | Int32Array | Uint8Array): void;
  free(handle: number): void;
  run(op: number, inputs: number): number;
  stats(): [handles: number, bytes: number];
  sync(): void;
  setThreads(n: number): void;
  /** Operand type of convolutions and matrix products (native/src/precision.h); absent from builds older than it. */
  setPrecision?(precision: "fp32" | "bf16"): void;
  // Compiled programs (native/src/program-napi.cc); absent from builds older than them.
  programCreate(code: Int32Array, floats: Float64Array, uploads: (Float32Array | Int32Array | Uint8Array)[]): number;
  programReplay(id: number, handles: Int32Array, scalars: Float64Array, seed: number, out: Float32Array): boolean;
  programFree(id: number): void;
  programCount(): number;
  programStats(
    id: number,
  ): [kernels: number, replays: number, totalNs: number, kernelNs: number, inPlace?: number, overwrites?: number, plannedUpdates?: number, plannedOverwrites?: number];
  seedStep(seed: number): void;
  /** Starts (true) or stops per-kernel timing of replays; returns [kernel, calls, ns] summed since the last call. */
  programProfile?(on: boolean): [kernel: string, calls: number, ns: number][];
  /** training.cuda_graph (native/src/cuda-graph.cc) → whether replays will be CUDA graphs; absent from older builds. */
  setCudaGraph?(on: boolean): boolean;
  /**
   * Bytes of tensors alive on the working device and their peak since resetMemoryPeak (native/src/memory.cc);
   * counted is false where this build cannot ask (a CUDA libtorch without its headers). Absent from older builds.
   */
  memoryStats?(): [bytes: number, peak: number, counted: boolean];
  resetMemoryPeak?(): void;
  /** Hands the C allocator's free pages back to the system (malloc_trim); absent from older builds. */
  releaseFreeMemory?(): void;
}

/** Where the addon is read from: SDFN_TORCH_ADDON, else the build output of `npm run build:native`. */
export const addonPath = process.env.SDFN_TORCH_ADDON ?? fileURLToPath(new URL("../../../native/build/sdfn_torch.node", import.meta.url));

// An installed package (compiled dist/, no src/) builds its addon where npm put it: `npm explore`
// runs the package's own script there; a checkout runs it directly.
const installed = !existsSync(new URL("../../../src/cli/main.ts", import.meta.url));
const buildHint =
  `Build it once with \`${installed ? "npm explore sdfn -- npm run build:native" : "npm run build:native"}\` ` +
  "(needs libtorch: `apt-get install libtorch-dev g++` on Debian/Ubuntu, a PyTorch install, or LIBTORCH_DIR=/path/to/libtorch).";

let loaded: { addon: TorchAddon } | { error: string } | undefined;

/** The addon, or why it cannot be loaded (with how to fix it). Loaded once per process. */
export function loadAddon(): { addon: TorchAddon } | { error: string } {
  if (loaded) return loaded;
  if (!existsSync(addonPath)) {
    loaded = { error: `the native addon ${addonPath} is not built. ${buildHint}` };
    return loaded;
  }
  try {
    loaded = { addon: createRequire(import.meta.url)(addonPath) as TorchAddon };
  } catch (err) {
    loaded = { error: `the native addon ${addonPath} failed to load (${(err as Error).message}). Rebuild it: ${buildHint}` };
  }
  return loaded;
}

/** dtype codes shared with native/src/ops.cc. */
export const dtypeCodes = { float32: 0, int32: 1, bool: 2 } as const;
export const dtypeNames = ["float32", "int32", "bool"] as const;
export type NativeDtype = (typeof dtypeNames)[number];

const recordSize = 12; // handle, dtype, rank, dims (native kRecord)

/** One addon bound to a device, with its shared argument and result buffers. */
export class TorchNative {
  readonly meta = new Int32Array(1 << 16);
  readonly ints = new Int32Array(1 << 14);
  readonly floats = new Float64Array(64);
  private readonly codes = new Map<string, number>();
  private readonly layouts = new Map<string, string>();

  constructor(
    readonly addon: TorchAddon,
    readonly device: string,
  ) {
    const { ops, layouts } = addon.init(this.meta, this.ints, this.floats, device);
    ops.forEach((name, code) => {
      this.codes.set(name, code);
      if (layouts) this.layouts.set(name, layouts[code]);
    });
  }

  /** Kernel names the addon implements. */
  kernels(): string[] {
    return [...this.codes.keys()];
  }

  /** The argument layout the addon compiled `kernel` against (undefined for builds older than layouts.json). */
  layout(kernel: string): string | undefined {
    return this.layouts.get(kernel);
  }

  code(kernel: string): number {
    const code = this.codes.get(kernel);
    if (code === undefined) throw new Error(`sdfn torch: the native addon has no kernel ${kernel}; rebuild it with \`npm run build:native\``);
    return code;
  }

  /** Runs a kernel: handles (-1 for absent inputs), then integer attributes; returns the output count. */
  run(code: number, handles: readonly number[], ints: ArrayLike<number> = [], floats: ArrayLike<number> = []): number {
    const buf = this.ints;
    const n = handles.length;
    if (n + ints.length > buf.length) throw new Error(`sdfn torch: too many kernel arguments (${n + ints.length})`);
    for (let k = 0; k < n; k++) buf[k] = handles[k];
    for (let k = 0; k < ints.length; k++) buf[n + k] = ints[k];
    for (let k = 0; k < floats.length; k++) this.floats[k] = floats[k];
    return this.addon.run(code, n);
  }

  /** Output k of the last run: its handle, dtype and shape. */
  output(k: number): { handle: number; dtype: NativeDtype; shape: number[] } {
    const m = this.meta;
    const base = k * recordSize;
    const rank = m[base + 2];
    const shape = new Array<number>(rank);
    for (let d = 0; d < rank; d++) shape[d] = m[base + 3 + d];
    return { handle: m[base], dtype: dtypeNames[m[base + 1]], shape };
  }

  upload(values: Float32Array | Int32Array | Uint8Array, shape: readonly number[], dtype: NativeDtype): number {
    for (let d = 0; d < shape.length; d++) this.ints[d] = shape[d];
    return this.addon.upload(values, dtypeCodes[dtype], shape.length);
  }
}
