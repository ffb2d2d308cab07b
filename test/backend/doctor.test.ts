// `sdfn doctor` and the error for a missing addon, in real processes (the addon path is read at load).
import { execFileSync } from "node:child_process";
import { join } from "node:path";

import { describe, expect, it } from "vitest";
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
});
