// The torch backend's parity suites outside vitest, for the GPU machine (bundled by bundle.mjs):
// every kernel case of test/backend/parity-cases.ts against tfjs's cpu backend (forward and
// gradients, relative error ≤ 1e-4, the same harness as the test), then the whole-network cases
// of test/reference/cases.ts against the PyTorch reference (bench/reference/check.py).
//   node .gpu/parity.cjs --out parity.json [--kernel-cases N] [--reference-cases N]
// The device is the torch backend's (SDFN_TORCH_DEVICE). Exit 0 when every case passed, 1 otherwise.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { fallbackCounts, nativeKernelNames, resetFallbackCounts, useBackend } from "../../src/backend/index.js";
import { parityCases } from "../../test/backend/parity-cases.js";
import { checkParity } from "../../test/backend/parity-harness.js";
import { CASES, check, exportCase } from "../../test/reference/cases.js";

interface Outcome {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

const { values } = parseArgs({ options: { out: { type: "string" }, "kernel-cases": { type: "string" }, "reference-cases": { type: "string" } } });
const limit = (v: string | undefined, all: number) => (v === undefined ? all : Math.min(all, Number(v)));

async function timedCase(name: string, run: () => Promise<void>): Promise<Outcome> {
  const t0 = performance.now();
  try {
    await run();
    return { name, ok: true, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    return { name, ok: false, ms: Math.round(performance.now() - t0), error: (err as Error).message.slice(0, 500) };
  }
}

/** Wraps every native kernel so the run can say which ones no case reached. */
function recordReached(): Set<string> {
  const used = new Set<string>();
  for (const name of nativeKernelNames()) {
    const config = tf.getKernel(name, "torch")!;
    tf.unregisterKernel(name, "torch");
    tf.registerKernel({ ...config, kernelFunc: (args) => (used.add(name), config.kernelFunc(args)) });
  }
  return used;
}

async function main(): Promise<number> {
  tf.env().set("PROD", true);
  const backend = await useBackend("torch");
  const used = recordReached();
  resetFallbackCounts();
  const kernels: Outcome[] = [];
  const nKernel = limit(values["kernel-cases"], parityCases.length);
  for (let k = 0; k < nKernel; k++) kernels.push(await timedCase(parityCases[k]!.name, () => checkParity(parityCases[k]!, 1000 + k)));
  const fallbacks = fallbackCounts();
  const unreached = nKernel === parityCases.length ? nativeKernelNames().filter((n) => !used.has(n)) : [];
  // Whole networks against the PyTorch reference (its python: SDFN_PYTHON, else /usr/bin/python3).
  const work = mkdtempSync(join(tmpdir(), "sdfn-parity-"));
  const reference: Outcome[] = [];
  try {
    for (const [i, c] of CASES.slice(0, limit(values["reference-cases"], CASES.length)).entries()) {
      await tf.setBackend("torch");
      reference.push(
        await timedCase(c.name, async () => {
          const r = check(await exportCase(c, join(work, `case${i}`)));
          if (r.status !== 0 || !/outputs agree/.test(r.output)) throw new Error(r.output.trim().split("\n").slice(-12).join("\n"));
        }),
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const count = (list: Outcome[]) => ({ passed: list.filter((o) => o.ok).length, of: list.length });
  const result = {
    device: backend.device,
    kernel_cases: { ...count(kernels), of_all: parityCases.length },
    reference_cases: { ...count(reference), of_all: CASES.length },
    unreached_kernels: unreached,
    cpu_fallbacks: fallbacks,
    failures: [...kernels, ...reference].filter((o) => !o.ok),
    cases: [...kernels, ...reference].map(({ name, ok, ms }) => ({ name, ok, ms })),
  };
  const text = JSON.stringify(result, null, 2);
  if (values.out) writeFileSync(values.out, `${text}\n`);
  process.stdout.write(
    `parity on ${result.device}: kernels ${result.kernel_cases.passed}/${result.kernel_cases.of}, ` +
      `reference ${result.reference_cases.passed}/${result.reference_cases.of}, unreached ${unreached.length}, fallbacks ${Object.keys(fallbacks).length}\n`,
  );
  for (const f of result.failures) process.stdout.write(`  FAILED ${f.name}: ${f.error}\n`);
  const allOk = result.failures.length === 0 && unreached.length === 0 && Object.keys(fallbacks).length === 0;
  return allOk ? 0 : 1;
}

process.exitCode = await main();
