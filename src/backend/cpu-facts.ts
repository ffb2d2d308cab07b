// The CPU facts a numerical bug report needs (`sdfn doctor`): the model, and the vector
// instruction sets that decide which kernels oneDNN and ATen run. Issue #28 was a report whose
// outcome depended on AVX-512 being there; the report should say so without asking.
import { readFileSync } from "node:fs";
import { arch, cpus } from "node:os";

export interface CpuFacts {
  model: string;
  arch: string;
  cores: number;
  /** The instruction-set flags that pick kernels (sse4_1 … avx512_bf16, amx_*; asimd, sve on Arm); null when unreadable. */
  isa: string[] | null;
}

// Flags in /proc/cpuinfo that change which float kernels oneDNN or ATen choose, in ISA order.
const KERNEL_FLAGS = [
  "sse4_1", "sse4_2", "avx", "fma", "f16c", "avx2", "avx_vnni", "avx512f", "avx512dq", "avx512cd", "avx512bw",
  "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8",
  "asimd", "asimdhp", "sve", "sve2", "bf16", "i8mm",
];

/** The kernel-relevant flags of a /proc/cpuinfo text (x86 "flags", Arm "Features"), in ISA order. */
export function kernelFlags(cpuinfo: string): string[] | null {
  const line = cpuinfo.split("\n").find((l) => /^(flags|Features)\s*:/.test(l));
  if (!line) return null;
  const present = new Set(line.slice(line.indexOf(":") + 1).trim().split(/\s+/));
  return KERNEL_FLAGS.filter((f) => present.has(f));
}

/** This machine's CPU facts. */
export function cpuFacts(): CpuFacts {
  const list = cpus();
  let isa: string[] | null = null;
  try {
    isa = kernelFlags(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    isa = null; // not Linux: the model name is all Node knows
  }
  return { model: list[0]?.model.trim() ?? "unknown", arch: arch(), cores: list.length, isa };
}
