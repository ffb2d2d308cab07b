// Every memory layout the torch backend can produce along conv / batch-norm / pooling chains,
// against PyTorch's own autograd in float64 (bench/reference/chains.py), not against another
// float32 implementation: issue #28 was a float32 reference and a float32 backend taking
// different sides of a ReLU knife edge, read as a wrong gradient on one CPU. Each environment is
// its own process (the settings are read once): both forward-convolution formats, under oneDNN's
// default ISA, AVX2 and SSE4.1 (so a CPU with AVX-512 also runs the kernels CI's CPUs run, and
// any CPU runs two kernel families), and ATen's scalar kernels. Chains: layout-chains.ts.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import type { MachineFacts } from "../../src/backend/index.js";
import { kernelFlags } from "../../src/backend/cpu-facts.js";
import { missing, PYTHON, ROOT } from "../support/requires.js";

const VARIANTS: Record<string, string>[] = [
  { SDFN_TORCH_CONV_FORMAT: "nchw" },
  { SDFN_TORCH_CONV_FORMAT: "channels_last" },
  { SDFN_TORCH_CONV_FORMAT: "nchw", ONEDNN_MAX_CPU_ISA: "AVX2" },
  { SDFN_TORCH_CONV_FORMAT: "channels_last", ONEDNN_MAX_CPU_ISA: "AVX2" },
  { SDFN_TORCH_CONV_FORMAT: "nchw", ONEDNN_MAX_CPU_ISA: "SSE41", ATEN_CPU_CAPABILITY: "default" },
  { SDFN_TORCH_CONV_FORMAT: "channels_last", ONEDNN_MAX_CPU_ISA: "SSE41", ATEN_CPU_CAPABILITY: "default" },
];

const work = mkdtempSync(join(tmpdir(), "sdfn-layout-chains-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The oneDNN ISA a cap gives on this CPU (dnnl_cpu_isa_t names), when the CPU has it. */
function cappedIsa(cap: string | undefined, flags: string[] | null): string | undefined {
  if (cap === "SSE41") return flags?.includes("sse4_1") ? "sse41" : undefined;
  if (cap === "AVX2") return flags?.includes("avx2") ? "avx2" : undefined;
  return undefined;
}

describe.skipIf(missing("addon", "pythonTorch"))("layout chains on the torch backend against PyTorch's float64 autograd", () => {
  const runs: string[] = [];

  it("runs every chain in every input form under each kernel environment, and each process got the environment it asked for", () => {
    const flags = kernelFlags(readFileSync("/proc/cpuinfo", "utf8"));
    for (const [i, env] of VARIANTS.entries()) {
      const dir = join(work, `env${i}`);
      const child = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "test/backend/layout-chains-run.ts"), dir], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, ONEDNN_MAX_CPU_ISA: "", ATEN_CPU_CAPABILITY: "", ...env },
      });
      expect(child.status, `${JSON.stringify(env)}: ${child.stderr.slice(-2000)}`).toBe(0);
      const meta = JSON.parse(readFileSync(join(dir, "chains.json"), "utf8")) as { backend: string; machine: MachineFacts };
      expect(meta.backend).toBe("torch");
      expect(meta.machine.torchCpu?.convFormat).toBe(env.SDFN_TORCH_CONV_FORMAT);
      const isa = cappedIsa(env.ONEDNN_MAX_CPU_ISA, flags);
      if (isa && meta.machine.torchCpu?.onednnVersion) expect(meta.machine.torchCpu.onednnIsa).toBe(isa);
      runs.push(dir);
    }
  }, 180_000);

  it("every forward and every gradient agrees with float64 autograd (a knife edge's side excepted, and named)", () => {
    expect(runs).toHaveLength(VARIANTS.length);
    const r = spawnSync(PYTHON, [join(ROOT, "bench/reference/chains.py"), ...runs], { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" } });
    const output = `${r.stdout}${r.stderr}`;
    expect(output).toMatch(/every case agrees with PyTorch's float64 autograd/);
    expect(r.status, output).toBe(0);
    // 5 chains × 4 input forms in each environment
    expect(output.match(/^ {2}ok /gm)).toHaveLength(VARIANTS.length * 20);
  }, 120_000);
});
