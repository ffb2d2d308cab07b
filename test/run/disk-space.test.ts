// The free-space check before training: a file system with less room than the checkpoints
// need (weights + optimizer state, twice) is refused with the path and the bytes, nothing left behind.
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/index.js";
import { checkFreeSpace, checkpointBytes, DiskSpaceError, type StatFs } from "../../src/run/disk-space.js";
import { train } from "../../src/run/train.js";

tf.env().set("IS_TEST", true);

const RECIPE = join(import.meta.dirname, "../train/fixtures/tiny.yaml");
const scratch = mkdtempSync(join(tmpdir(), "sdfn-disk-space-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Bytes of the weights and state files under `dir`. */
function bytesUnder(dir: string): number {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".safetensors"))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

/** A file system with `free` bytes available in 4 KiB blocks; records the paths asked about. */
const fakeFs = (free: number, asked: string[] = []): StatFs => (path) => (asked.push(path), { bavail: BigInt(Math.floor(free / 4096)), bsize: 4096n });

describe("free space before training", () => {
  it("estimates last (weights + two optimizer moments) and best (weights), float32 plus header entries, each twice", () => {
    // "a.w": 10 trainable values, "b": 5 frozen. weights = (40 + 3 + 80) + (20 + 1 + 80) = 224;
    // state = 2 × (40 + 3 + 80 + 12) = 270; last + best = 224 + 270 + 224 = 718; with the previous units 1436.
    expect(checkpointBytes([["a.w", { size: 10, trainable: true }], ["b", { size: 5, trainable: false }]])).toBe(1436);
    expect(() => checkFreeSpace("/runs/x", 280, fakeFs(4096))).not.toThrow();
    expect(() => checkFreeSpace("/runs/x", 8192, fakeFs(4096))).toThrow(DiskSpaceError);
    expect(() => checkFreeSpace("/runs/x", 8192, fakeFs(4096))).toThrow(
      "/runs/x: only 0.0 MiB free on its file system; this run's checkpoints need about 0.0 MiB (8192 bytes: weights and optimizer state, kept twice while the next checkpoint is written); free some space or choose another --out DIR",
    );
    // Where statfs is unsupported the check is skipped (the probe write and I/O errors remain).
    expect(() => checkFreeSpace("/runs/x", 8192, () => { throw Object.assign(new Error("ENOSYS"), { code: "ENOSYS" }); })).not.toThrow();
  });

  it("train() on a nearly full disk is refused before anything trains, naming the run directory; the directory is removed", async () => {
    const loaded = await loadRecipe(RECIPE);
    const out = join(scratch, "full");
    const asked: string[] = [];
    const err = await train(loaded, { outDir: out, onEvent: () => {}, statfs: fakeFs(64 * 1024, asked) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskSpaceError);
    expect(asked).toEqual([out]);
    const needed = Number(/\((\d+) bytes/.exec((err as Error).message)![1]);
    expect((err as Error).message).toMatch(new RegExp(`^${out}: only 0\\.1 MiB free on its file system; this run's checkpoints need about [\\d.]+ MiB`));
    expect(needed).toBeGreaterThan(64 * 1024);
    expect(existsSync(out)).toBe(false);
    // With room enough the same run is not refused by the check (it trains; the estimate covers what it writes).
    const ok = join(scratch, "ok");
    const summary = await train(loaded, { outDir: ok, onEvent: () => {}, statfs: fakeFs(needed + 4096) });
    expect(summary.status).toBe("completed");
    // What it wrote (last, best and their predecessors) fits the estimate.
    expect(bytesUnder(join(ok, "checkpoints"))).toBeLessThanOrEqual(needed);
  });
});
