// The fault suite: a full disk mid-checkpoint (a fault-injecting fs shim), flipped bytes, kill -9,
// SIGTERM, two writers and an existing run directory; a run that dies before its first checkpoint
// (kill -9, a full disk), a killed writer's temporary files and symbolic links where a run writes.
// Nothing is lost and nothing is a dead end: every run resumes (or starts afresh) to the same
// weights as one that was never disturbed (tiny recipe, cpu backend).
import * as tf from "@tensorflow/tfjs";
import { spawn } from "node:child_process";
import fs, { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readSafetensors } from "../../src/io/safetensors.js";
import { loadRecipe } from "../../src/recipe/index.js";
import { readCheckpoint } from "../../src/run/checkpoint.js";
import { claimRunDir, RunDirError } from "../../src/run/run-lock.js";
import { train } from "../../src/run/train.js";
import { sdfn, sdfnProcess } from "../support/cli.js";

tf.env().set("IS_TEST", true);

const ROOT = resolve(import.meta.dirname, "../..");
const RECIPE = join(ROOT, "test/train/fixtures/tiny.yaml");
const SETS = ["training.checkpoint_every=2"]; // 2 epochs × 3 steps: checkpoints at steps 2 and 4 as well
const scratch = mkdtempSync(join(tmpdir(), "sdfn-faults-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let runs = 0;
const fresh = () => join(scratch, `run${runs++}`);

async function run(opts: { outDir?: string; resume?: string; onEvent?: (e: { type: string }) => void; sets?: string[] } = {}) {
  const loaded = await loadRecipe(RECIPE, { sets: [...SETS, ...(opts.sets ?? [])] });
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

/** The shim of a full disk: once armed, every write to a file of a "last" checkpoint being written fails with ENOSPC. */
function fullDisk(out: string) {
  const failing = new Set<number>();
  const open = fs.openSync;
  const write = fs.writeSync;
  const disk = {
    armed: false,
    restore() {
      vi.restoreAllMocks();
      syncBuiltinESMExports();
    },
  };
  vi.spyOn(fs, "openSync").mockImplementation(((path: fs.PathLike, ...rest: unknown[]) => {
    const fd = (open as (...a: unknown[]) => number)(path, ...rest);
    if (disk.armed && String(path).includes(`${join(out, "checkpoints")}/.last.tmp-`)) failing.add(fd);
    return fd;
  }) as typeof fs.openSync);
  vi.spyOn(fs, "writeSync").mockImplementation(((fd: number, ...rest: unknown[]) => {
    if (failing.has(fd)) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28, syscall: "write" });
    return (write as (...a: unknown[]) => number)(fd, ...rest);
  }) as typeof fs.writeSync);
  syncBuiltinESMExports();
  return disk;
}

let reference: string;
beforeAll(async () => {
  reference = fresh();
  expect((await run({ outDir: reference })).status).toBe("completed");
});

describe("a run directory has one writer", () => {
  it("a second writer is refused with the holder's PID; a dead holder's lock is taken over", async () => {
    const dir = fresh();
    const claim = claimRunDir(dir, { resume: false, recipeHash: "h" });
    expect(() => claimRunDir(dir, { resume: true, recipeHash: "h" })).toThrow(new RegExp(`being written by process ${process.pid} \\(since `));
    claim.release();
    expect(existsSync(dir)).toBe(false); // nothing else was written: the directory goes with the lock

    // A lock left by a killed process (a PID that exited) is stale.
    const dead = spawn(process.execPath, ["-e", "0"]);
    await new Promise((r) => dead.on("exit", r));
    mkdirSync(dir);
    writeFileSync(join(dir, "sdfn.lock"), JSON.stringify({ pid: dead.pid, host: (await import("node:os")).hostname(), since: "then" }));
    const taken = claimRunDir(dir, { resume: true, recipeHash: "h" });
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
    const disk = fullDisk(out);
    try {
      const onEvent = (e: { type: string }) => {
        if (e.type === "checkpoint") disk.armed = true; // the step-2 checkpoint is written; the next "last" fails
      };
      await expect(run({ outDir: out, onEvent })).rejects.toThrow(
        /cannot write .*\/checkpoints\/\.last\.tmp-\d+\/weights\.safetensors: no space left on the device \(ENOSPC\)/,
      );
    } finally {
      disk.restore();
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

describe("a run that dies before its first checkpoint is no dead end", () => {
  const restartLine = (dir: string) => `starting afresh in ${dir}: it holds a run of this recipe that stopped before its first checkpoint (its files are replaced)`;
  /** `sdfn build --out OUT` killed (-9) after its first step: the first checkpoint comes at step 2. */
  async function killedEarly(): Promise<string> {
    const out = fresh();
    const r = await build(out, (e, child) => {
      if (e.type === "step") child.kill("SIGKILL");
    });
    expect(r.signal).toBe("SIGKILL");
    expect(existsSync(join(out, "checkpoints", "last"))).toBe(false);
    expect(readdirSync(out)).toEqual(expect.arrayContaining(["metrics.jsonl", "recipe.resolved.yaml", "sdfn.lock"]));
    return out;
  }
  const warningsOf = (into: string[]) => (e: { type: string; message?: string }) => void (e.type === "warning" && into.push(e.message!));

  it("kill -9 before the first checkpoint: `sdfn build --resume` starts it afresh, says so in one line, and ends as the undisturbed run", async () => {
    const out = await killedEarly();
    const r = sdfnProcess(["build", "--resume", out, "--log", "plain"]); // the run's own recipe (RECIPE omitted)
    expect(r.code, r.err).toBe(0);
    expect(r.out.split("\n")[0]).toBe(`warning: ${restartLine(out)}`);
    expect(r.out.match(/starting afresh/g)).toHaveLength(1);
    expectSameWeights(out, reference);
    // metrics.jsonl holds the new run alone: one start, steps 0…5 once each.
    const events = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { type: string; step?: number });
    expect(events.filter((e) => e.type === "start")).toHaveLength(1);
    expect(events.filter((e) => e.type === "step").map((e) => e.step)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("a plain re-run of the same recipe (seed included) replaces it; another recipe's is refused and left as it was", async () => {
    const out = await killedEarly();
    const before = readdirSync(out).filter((n) => n !== "sdfn.lock").sort();
    const metrics = readFileSync(join(out, "metrics.jsonl"), "utf8");
    await expect(run({ outDir: out, sets: ["seed=4"] })).rejects.toThrow(
      `${out} holds a run of another recipe (recipe.resolved.yaml) that stopped before its first checkpoint; give a new --out DIR, or start that recipe afresh there with \`sdfn build --resume ${out}\``,
    );
    expect(readdirSync(out).sort()).toEqual(before); // the stale lock was taken over and given back; nothing else changed
    expect(readFileSync(join(out, "metrics.jsonl"), "utf8")).toBe(metrics);
    const warnings: string[] = [];
    expect((await run({ outDir: out, onEvent: warningsOf(warnings) })).status).toBe("completed");
    expect(warnings).toEqual([restartLine(out)]);
    expectSameWeights(out, reference);
  });

  it("a full disk at the first checkpoint leaves no half unit; --resume starts afresh and ends as the undisturbed run", async () => {
    const out = fresh();
    const disk = fullDisk(out);
    disk.armed = true;
    try {
      await expect(run({ outDir: out })).rejects.toThrow(/cannot write .*\/\.last\.tmp-\d+\/weights\.safetensors: no space left on the device \(ENOSPC\)/);
    } finally {
      disk.restore();
    }
    expect(readdirSync(join(out, "checkpoints"))).toEqual([]);
    const warnings: string[] = [];
    expect((await run({ resume: out, onEvent: warningsOf(warnings) })).status).toBe("completed");
    expect(warnings).toEqual([restartLine(out)]);
    expectSameWeights(out, reference);
  });

  it("a killed writer's *.tmp-PID files and folders are removed when the directory is next claimed; a live writer's stay", async () => {
    const out = fresh();
    const dead = spawn(process.execPath, ["-e", "0"]);
    await new Promise((r) => dead.on("exit", r));
    const live = process.ppid; // vitest's main process
    mkdirSync(join(out, "checkpoints", `.last.tmp-${dead.pid}`), { recursive: true });
    writeFileSync(join(out, "checkpoints", `.last.tmp-${dead.pid}`, "weights.safetensors"), "half");
    writeFileSync(join(out, `report.html.tmp-${dead.pid}`), "half");
    writeFileSync(join(out, `summary.json.tmp-${live}`), "being written");
    const claim = claimRunDir(out, { resume: false, recipeHash: "h" }); // nothing else there: a new run
    expect(readdirSync(out).sort()).toEqual(["checkpoints", "sdfn.lock", `summary.json.tmp-${live}`]);
    expect(readdirSync(join(out, "checkpoints"))).toEqual([]);
    claim.release();
  });
});

describe("nothing is written through a symbolic link in a run directory", () => {
  it("a resume refuses a run whose metrics.jsonl is a link, before writing anything; exit 2 from the CLI; the link's target is untouched", async () => {
    const out = fresh();
    cpSync(reference, out, { recursive: true });
    const outside = join(scratch, "outside.jsonl");
    writeFileSync(outside, "keep\n");
    rmSync(join(out, "metrics.jsonl"));
    symlinkSync(outside, join(out, "metrics.jsonl"));
    const refusal = `${out}: metrics.jsonl is a symbolic link; sdfn writes a run directory's files itself, never through a link: remove it`;
    await expect(run({ resume: out })).rejects.toThrow(refusal);
    const r = await sdfn("build", "--resume", out);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`error: ${refusal}\n`);
    expect(readFileSync(outside, "utf8")).toBe("keep\n");
    expect(existsSync(join(out, "sdfn.lock"))).toBe(false);
  });
});
