// `sdfn doctor` and the error for a missing addon, in real processes (the addon path is read at load).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";
import type { MachineFacts } from "../../src/backend/index.js";
import { kernelFlags } from "../../src/backend/cpu-facts.js";
import { missing } from "../support/requires.js";

const root = join(import.meta.dirname, "../..");
const run = (args: string[], env: Record<string, string> = {}) =>
  execFileSync(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, encoding: "utf8" });

describe("sdfn doctor", () => {
  it.skipIf(missing("addon"))("lists every backend, what it runs on or why not, and what auto picks", () => {
    const out = run(["bin/sdfn.js", "doctor"]);
    expect(out).toMatch(/^ {2}cpu +available +cpu \(pure JavaScript\)$/m);
    expect(out).toMatch(/^ {2}torch +available +cpu \(libtorch .*\)$/m);
    expect(out).toMatch(/^ {2}tensorflow +not available +@tensorflow\/tfjs-node is not installed/m);
    expect(out).toMatch(/^ {2}webgpu +not available +.+/m);
    expect(out).toMatch(/^auto → torch$/m);
  });

  it("without the addon says how to build it, and auto falls back to wasm (it trains, faster than cpu)", () => {
    const out = run(["bin/sdfn.js", "doctor", "--json"], { SDFN_TORCH_ADDON: "/nonexistent/sdfn_torch.node" });
    const report = JSON.parse(out) as { backends: { name: string; available: boolean; why?: string }[]; auto: string };
    expect(report.backends.find((b) => b.name === "torch")).toMatchObject({ available: false, why: expect.stringMatching(/npm run build:native/) });
    expect(report.backends.find((b) => b.name === "wasm")).toMatchObject({ available: true });
    expect(report.auto).toBe("wasm");
  });

  it("says wasm trains too (sdfn registers the gradient kernels it lacks)", () => {
    const out = run(["bin/sdfn.js", "doctor"], { SDFN_TORCH_ADDON: "/nonexistent/sdfn_torch.node" });
    expect(out).toMatch(/^ {2}wasm +available +cpu \(WebAssembly\) — trains and evaluates \(sdfn adds the gradient kernels tfjs-backend-wasm lacks\)$/m);
  });

  it("asking for torch without the addon throws an error that says how to build it", () => {
    const script = "import('./src/backend/index.ts').then((m) => m.useBackend('torch')).then(() => console.log('started'), (e) => console.log(e.message))";
    const out = run(["--import", "tsx", "-e", script], { SDFN_TORCH_ADDON: "/nonexistent/sdfn_torch.node" });
    expect(out).toMatch(/^backend torch: the native addon \/nonexistent\/sdfn_torch.node is not built\. Build it once with `npm run build:native`/);
  });

  it.skipIf(missing("addon"))("reports the CPU's instruction sets, oneDNN's version and the ISA it dispatches to", () => {
    const out = run(["bin/sdfn.js", "doctor"]);
    const flags = kernelFlags(readFileSync("/proc/cpuinfo", "utf8"));
    expect(out).toMatch(/^Machine \(include these lines in a bug report about numbers\):$/m);
    expect(out).toContain(`  isa         ${flags!.join(" ")}\n`);
    expect(out).toMatch(/^ {2}oneDNN {6}\d+\.\d+\.\d+, dispatching (sse41|avx|avx2|avx512_core\w*|0x[0-9a-f]+)$/m);
    expect(out).toMatch(/^ {2}ATen {8}(AVX2|AVX512|DEFAULT) kernels; forward convolutions: auto \(SDFN_TORCH_CONV_FORMAT\)$/m);
    // oneDNN's own cap moves what it dispatches to: the report must show the effective ISA, not the CPU's
    if (flags!.includes("avx2")) {
      const capped = run(["bin/sdfn.js", "doctor"], { ONEDNN_MAX_CPU_ISA: "AVX2", SDFN_TORCH_CONV_FORMAT: "nchw" });
      expect(capped).toMatch(/^ {2}oneDNN {6}\d+\.\d+\.\d+, dispatching avx2 \(ONEDNN_MAX_CPU_ISA=AVX2\)$/m);
      expect(capped).toMatch(/forward convolutions: nchw \(SDFN_TORCH_CONV_FORMAT\)$/m);
    }
    const json = JSON.parse(run(["bin/sdfn.js", "doctor", "--json"], { ONEDNN_MAX_CPU_ISA: "SSE41" })) as { machine: MachineFacts };
    expect(json.machine.cpu.isa).toEqual(flags);
    expect(json.machine.torchCpu).toMatchObject({ onednnIsa: "sse41", convFormat: "auto", onednnVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
  });

  it.skipIf(missing("addon"))("refuses an unknown SDFN_TORCH_CONV_FORMAT, naming the values it takes", () => {
    const out = run(["bin/sdfn.js", "doctor"], { SDFN_TORCH_CONV_FORMAT: "nhwc" });
    expect(out).toMatch(/^ {2}torch +not available +SDFN_TORCH_CONV_FORMAT must be auto, nchw or channels_last, not 'nhwc'$/m);
    const script = "import('./src/backend/index.ts').then((m) => m.useBackend('torch')).then(() => console.log('started'), (e) => console.log(e.constructor.name, e.message))";
    expect(run(["--import", "tsx", "-e", script], { SDFN_TORCH_CONV_FORMAT: "nhwc" })).toMatch(
      /^UserError SDFN_TORCH_CONV_FORMAT=nhwc: must be one of auto, nchw, channels_last \(unset means auto\)$/m,
    );
  });
});

describe("the CPU's kernel flags", () => {
  it("keeps the instruction sets that pick kernels, in ISA order, from an x86 and an Arm /proc/cpuinfo", () => {
    const x86 = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse4_2 avx2 sse4_1 avx512f avx512_bf16 avx fma hypervisor\n";
    expect(kernelFlags(x86)).toEqual(["sse4_1", "sse4_2", "avx", "fma", "avx2", "avx512f", "avx512_bf16"]);
    expect(kernelFlags("processor\t: 0\nFeatures\t: fp asimd evtstrm sve aes\n")).toEqual(["asimd", "sve"]);
    expect(kernelFlags("processor\t: 0\n")).toBeNull();
  });
});

