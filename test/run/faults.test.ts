// The fault suite: a full disk mid-checkpoint (a fault-injecting fs shim), flipped bytes, kill -9,
// SIGTERM, two writers and an existing run directory. Nothing is lost: every run resumes to the
// same weights as one that was never disturbed (tiny recipe, cpu backend).
import * as tf from "@tensorflow/tfjs";
import { spawn } from "node:child_process";
import fs, { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readSafetensors } from "../../src/io/safetensors.js";
import { loadRecipe } from "../../src/recipe/index.js";
import { readCheckpoint } from "../../src/run/checkpoint.js";
import { claimRunDir, RunDirError } from "../../src/run/run-lock.js";
import { train } from "../../src/run/train.js";

tf.env().set("IS_TEST", true);

const ROOT = resolve(import.meta.dirname, "../..");
const RECIPE = join(ROOT, "test/train/fixtures/tiny.yaml");
const SETS = ["training.checkpoint_every=2"]; // 2 epochs × 3 steps: checkpoints at steps 2 and 4 as well
const scratch = mkdtempSync(join(tmpdir(), "sdfn-faults-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let runs = 0;
const fresh = () => join(scratch, `run${runs++}`);

async function run(opts: { outDir?: string; resume?: string; onEvent?: (e: { type: string }) => void } = {}) {
  const loaded = await loadRecipe(RECIPE, { sets: SETS });
  return train(loaded, { outDir: opts.outDir ?? fresh(), resume: opts.resume, onEvent: opts.onEvent ?? (() => {}) });
}

const weightsOf = (dir: string) => readSafetensors(join(dir, "checkpoints", "last", "weights.safetensors")).tensors;
function expectSameWeights(dir: string, reference: string): void {
  const a = weightsOf(reference);
  const b = weightsOf(dir);
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).toEqual(Array.from(a[name]!.data));
}

/** `sdfn build` of the tiny recipe in its own process, JSON events on stdout; `onEvent` may signal it. */
function build(out: string, onEvent: (e: { type: string; reason?: string }, child: ReturnType<typeof spawn>) => void) {
  const child = spawn(process.execPath, [join(ROOT, "bin/sdfn.js"), "build", RECIPE, "--out", out, "--log", "json", ...SETS.flatMap((s) => ["--set", s])], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let buffered = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.startsWith("{")) onEvent(JSON.parse(line) as { type: string }, child);
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((done) =>
    child.on("exit", (code, signal) => done({ code, signal, stderr })),
  );
}

let reference: string;
beforeAll(async () => {
  reference = fresh();
  expect((await run({ outDir: reference })).status).toBe("completed");
});

describe("a run directory has one writer", () => {
  it("a second writer is refused with the holder's PID; a dead holder's lock is taken over", async () => {
    const dir = fresh();
    const claim = claimRunDir(dir, { resume: false });
    expect(() => claimRunDir(dir, { resume: true })).toThrow(new RegExp(`being written by process ${process.pid} \\(since `));
    claim.release();
    expect(existsSync(dir)).toBe(false); // nothing else was written: the directory goes with the lock

    // A lock left by a killed process (a PID that exited) is stale.
    const dead = spawn(process.execPath, ["-e", "0"]);
    await new Promise((r) => dead.on("exit", r));
    mkdirSync(dir);
    writeFileSync(join(dir, "sdfn.lock"), JSON.stringify({ pid: dead.pid, host: (await import("node:os")).hostname(), since: "then" }));
    const taken = claimRunDir(dir, { resume: true });
    expect(JSON.parse(readFileSync(join(dir, "sdfn.lock"), "utf8")).pid).toBe(process.pid);
    taken.release();
  });

  it("a new run refuses a directory holding another run, and changes nothing in it", async () => {
    const before = readdirSync(reference).sort();
    const metrics = readFileSync(join(reference, "metrics.jsonl"), "utf8");
    await expect(run({ outDir: reference })).rejects.toThrow(RunDirError);
    await expect(run({ outDir: reference })).rejects.toThrow(`${reference} already holds a run (`);
    expect(readdirSync(reference).sort()).toEqual(before);
    expect(readFileSync(join(reference, "metrics.jsonl"), "utf8")).toBe(metrics);
  });

  it("`sdfn build --out` of an existing run exits 2 and says how to continue it", async () => {
    const r = await build(reference, () => {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${reference} already holds a run (`);
    expect(r.stderr).toContain(`--resume ${reference}`);
  });
});

describe("checkpoints are all of one step or nothing", () => {
  it("a full disk in the middle of a checkpoint names the file and keeps the previous one; the resume is exact", async () => {
    const out = fresh();
    let armed = false;
    const failing = new Set<number>();
    const open = fs.openSync;
    const write = fs.writeSync;
    // The shim: once armed, every write to a file of a checkpoint being written fails with ENOSPC.
    vi.spyOn(fs, "openSync").mockImplementation(((path: fs.PathLike, ...rest: unknown[]) => {
      const fd = (open as (...a: unknown[]) => number)(path, ...rest);
      if (armed && String(path).includes(`${join(out, "checkpoints")}/.last.tmp-`)) failing.add(fd);
      return fd;
    }) as typeof fs.openSync);
    vi.spyOn(fs, "writeSync").mockImplementation(((fd: number, ...rest: unknown[]) => {
      if (failing.has(fd)) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28, syscall: "write" });
      return (write as (...a: unknown[]) => number)(fd, ...rest);
    }) as typeof fs.writeSync);
    syncBuiltinESMExports();
    try {
      const onEvent = (e: { type: string }) => {
        if (e.type === "checkpoint") armed = true; // the step-2 checkpoint is written; the next "last" fails
      };
      await expect(run({ outDir: out, onEvent })).rejects.toThrow(
        /cannot write .*\/checkpoints\/\.last\.tmp-\d+\/weights\.safetensors: no space left on the device \(ENOSPC\)/,
      );
    } finally {
      vi.restoreAllMocks();
      syncBuiltinESMExports();
    }
    // The end-of-epoch-1 "last" failed (its "best" was written first): no half-written unit is left.
    expect(readdirSync(join(out, "checkpoints")).sort()).toEqual(["best", "last"]);
    expect(readCheckpoint(out, "last").meta).toMatchObject({ step: 2, epoch: 0, epochStep: 2 });
    expect((await run({ resume: out })).status).toBe("completed");
    expectSameWeights(out, reference);
  });

  it("flipped bytes in the weights are found by their hash: the previous checkpoint is used, saying so", async () => {
    const out = fresh();
    await run({ outDir: out });
    const file = join(out, "checkpoints", "last", "weights.safetensors");
    const bytes = readFileSync(file);
    bytes[bytes.length - 5] ^= 0x40;
    writeFileSync(file, bytes);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on("warning", onWarning);
    try {
      const loaded = readCheckpoint(out, "last");
      expect(loaded.fellBack).toBe(
        `the "last" checkpoint is unusable (${file} is corrupt: its SHA-256 does not match the manifest); ` +
          `using the previous one, ${join(out, "checkpoints", "last.prev")}`,
      );
      expect(loaded.meta).toMatchObject({ epoch: 1, epochStep: 1, step: 4 }); // the step-4 checkpoint, before the final one
      await new Promise((r) => setImmediate(r)); // process warnings are emitted on the next tick
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.some((w) => w.includes("is corrupt: its SHA-256 does not match"))).toBe(true);
    // The resume continues from the previous checkpoint and ends where the undisturbed run did.
    expect((await run({ resume: out })).status).toBe("completed");
    expectSameWeights(out, reference);
    // The corrupt unit is not kept as the fallback: last.prev is a verified one.
    expect(readFileSync(join(out, "checkpoints", "last.prev", "weights.safetensors")).equals(bytes)).toBe(false);
  });
});

describe("a killed process loses at most checkpoint_every steps", () => {
  it("kill -9 after a step checkpoint: the resume finishes with the undisturbed run's weights", async () => {
    const out = fresh();
    const r = await build(out, (e, child) => {
      if (e.type === "checkpoint" && e.reason === "every") child.kill("SIGKILL");
    });
    expect(r.signal).toBe("SIGKILL");
    expect(existsSync(join(out, "sdfn.lock"))).toBe(true); // left by the killed process: stale, taken over below
    expect(readCheckpoint(out, "last").meta.step).toBeGreaterThanOrEqual(2);
    expect((await run({ resume: out })).status).toBe("completed");
    expectSameWeights(out, reference);
  });

  it("SIGTERM stops like q (a checkpoint first) and exits 143; the resume is exact", async () => {
    const out = fresh();
    let sent = false;
    let stopped: { resumeCommand?: string } | undefined;
    const r = await build(out, (e, child) => {
      if (e.type === "stopped") stopped = e as { resumeCommand?: string };
      if (e.type === "step" && !sent) {
        sent = true;
        child.kill("SIGTERM");
      }
    });
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toContain("SIGTERM; stopping after the current step");
    // The hint runs where it is printed (npx inside the project), with the absolute run directory.
    expect(stopped?.resumeCommand).toBe(`npx sdfn build ${relative(ROOT, RECIPE)} --set "training.checkpoint_every=2" --resume ${out}`);
    expect(existsSync(join(out, "sdfn.lock"))).toBe(false);
    expect((await run({ resume: out })).status).toBe("completed");
    expectSameWeights(out, reference);
  });
});
