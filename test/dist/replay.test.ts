// Distributed replay: the recorded step carries the bucketed DistAllreduce kernels, and a replay
// runs them natively against the live Gloo group (child processes over 127.0.0.1). 2 processes ×
// batch 4 replayed = 1 process × batch 8 replayed = 2 processes eager (weights to 1e-5 after 10
// steps), and a NaN on one rank skips the update on every rank (the losses are averaged with the
// first gradient bucket, so the finite check sees the NaN everywhere).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/dist/launch.js";
import { missing, ROOT } from "../support/requires.js";
import type { Mode, ModeResult, WorkerConfig } from "./fixtures/replay-steps.js";
import { writeRecipe } from "./helpers.js";

const scratch = mkdtempSync(join(tmpdir(), "sdfn-dist-replay-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const WORKER = join(import.meta.dirname, "fixtures", "replay-steps.ts");
const STEPS = 10;
const NAN = { rank: 1, step: 5 };

/** One worker process; resolves with its results by mode. */
function worker(cfg: WorkerConfig): Promise<Partial<Record<Mode, ModeResult>>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", WORKER, JSON.stringify(cfg)], {
      cwd: ROOT,
      env: { ...process.env, SDFN_TORCH_THREADS: "1" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`rank ${cfg.rank}/${cfg.world} exited ${code}: ${stderr}`));
      if (stderr.includes("warning:")) return reject(new Error(`rank ${cfg.rank}/${cfg.world} warned: ${stderr}`));
      resolve(JSON.parse(readFileSync(cfg.out, "utf8")) as Partial<Record<Mode, ModeResult>>);
    });
  });
}

function maxDifference(a: ModeResult["weights"], b: ModeResult["weights"]): number {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  let worst = 0;
  for (const [name, values] of Object.entries(a)) values.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - b[name]![i]!))));
  return worst;
}

describe.skipIf(missing("addon", "distributed"))("replayed steps over a Gloo group", () => {
  it("2 × 4 replayed = 1 × 8 replayed = 2 × 4 eager; a NaN on rank 1 skips the update on both ranks", async () => {
    const recipe = writeRecipe(scratch, { batch: 4 });
    const port = await freePort();
    const base = { recipe, port, steps: STEPS, globalBatch: 8, imageSize: 24, nan: NAN };
    const [r0, r1, alone] = await Promise.all([
      worker({ ...base, rank: 0, world: 2, modes: ["replay", "eager", "replay-nan"], out: join(scratch, "r0.json") }),
      worker({ ...base, rank: 1, world: 2, modes: ["replay", "eager", "replay-nan"], out: join(scratch, "r1.json") }),
      worker({ ...base, rank: 0, world: 1, port: 0, modes: ["replay"], out: join(scratch, "alone.json") }),
    ]);
    for (const r of [r0.replay!, r1.replay!, alone.replay!]) {
      // two recorded captures, then every step one native replay (collectives included)
      expect(r.counts).toEqual({ programs: 1, replayed: STEPS - 2, eager: 2 });
      expect(r.optimizerSteps).toBe(STEPS);
    }
    expect(r0.eager!.counts.replayed).toBe(0);
    // every step averaged its gradients in several buckets, replayed or eager alike
    expect(r0.replay!.collectives).toBeGreaterThan(2 * STEPS);
    expect(r0.replay!.collectives).toBe(r0.eager!.collectives);
    expect(r0.replay!.bytes).toBe(r0.eager!.bytes);

    const totals = alone.replay!.totals;
    expect(totals[STEPS - 1]!).toBeLessThan(totals[0]!); // training moved the weights
    expect(maxDifference(r0.replay!.weights, alone.replay!.weights)).toBeLessThan(1e-5);
    expect(maxDifference(r0.replay!.weights, r0.eager!.weights)).toBeLessThan(1e-5);
    expect(maxDifference(r0.replay!.weights, r1.replay!.weights)).toBe(0); // same averaged gradients, same update
    // the averaged losses are the single process's losses (the head rides in the first bucket)
    r0.replay!.totals.forEach((t, k) => expect(t).toBeCloseTo(totals[k]!, 5));

    for (const r of [r0["replay-nan"]!, r1["replay-nan"]!]) {
      expect(r.counts.replayed).toBe(STEPS - 2); // the NaN step was a replay
      expect(r.nonFinite[NAN.step]!.length).toBeGreaterThan(0); // rank 0's own batch was finite
      expect(r.nonFinite.filter((n) => n.length > 0)).toHaveLength(1);
      expect(r.nanStepChange).toBe(0);
      expect(r.optimizerSteps).toBe(STEPS - 1);
    }
    expect(maxDifference(r0["replay-nan"]!.weights, r1["replay-nan"]!.weights)).toBe(0);
  }, 420_000);
});
