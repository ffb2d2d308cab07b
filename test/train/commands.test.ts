import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { sdfn } from "../support/cli.js";

tf.env().set("IS_TEST", true);

const fixtures = join(import.meta.dirname, "fixtures");
const scratch = mkdtempSync(join(tmpdir(), "sdfn-commands-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());


describe("sdfn build / eval / query", () => {
  const run = join(scratch, "tiny-run");

  it("rejects an invalid recipe with FILE:LINE:COL, exit 2, and writes nothing", async () => {
    const out = join(scratch, "never");
    const r = await sdfn("build", join(fixtures, "bad.yaml"), "--out", out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.yaml:10:\d+: error: .*weight/);
    expect(existsSync(out)).toBe(false);
  });

  it("rejects an unknown backend and option as usage errors", async () => {
    expect((await sdfn("build", join(fixtures, "tiny.yaml"), "--backend", "quantum")).code).toBe(2);
    expect((await sdfn("build", join(fixtures, "tiny.yaml"), "--frobnicate")).code).toBe(2);
  });

  it("--dry-run prints the network summary and writes nothing", async () => {
    const out = join(scratch, "dry");
    const r = await sdfn("build", join(fixtures, "tiny.yaml"), "--out", out, "--dry-run");
    expect(r.code).toBe(0);
    expect(r.out).toContain("2 fusion layers × 4 modules");
    expect(r.out).toContain("nothing trained or written");
    expect(existsSync(out)).toBe(false);
  });

  it("builds a run directory, then eval and query read it back", async () => {
    const built = await sdfn("build", join(fixtures, "tiny.yaml"), "--out", run, "--log", "json", "--set", "training.epochs=1");
    expect(built.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(run, "summary.json"), "utf8"));
    expect(readFileSync(join(run, "report.html"), "utf8")).toContain("<html");
    expect(summary).toMatchObject({ status: "completed", epochs: 1, backend: "cpu" });
    // --log json: one event per line on stdout
    expect(built.out.trim().split("\n").map((l) => JSON.parse(l).type)).toContain("evaluation");

    const evaluated = await sdfn("eval", run, "--json");
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.out).recall).toEqual(summary.recall); // best = last after one epoch

    const table = await sdfn("eval", run, "--checkpoint", "last");
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/set\s+R@1\s+R@5\s+mean/);

    const resolved = readFileSync(join(run, "recipe.resolved.yaml"), "utf8");
    expect(resolved).toContain("name: tiny");
    const gallery = await sdfn("query", run, "--image", "nope", "--text", "x");
    expect(gallery.code).toBe(2);
    const id = /e\.g\. ([^,\s]+)/.exec(gallery.err)![1]!;
    const q = await sdfn("query", run, "--image", id, "--text", "make the red circle blue", "-k", "3");
    expect(q.code).toBe(0);
    const lines = q.out.trim().split("\n");
    expect(lines[0]).toContain("top 3 of 16 gallery images");
    expect(lines.slice(1)).toHaveLength(3);
    const scores = lines.slice(1).map((l) => Number(l.trim().split(/\s+/)[1]));
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(lines.slice(1).every((l) => !l.endsWith(` ${id}`))).toBe(true); // the reference is excluded
  });

  it("eval and query start the backend they are given; query also takes an image file", async () => {
    expect((await sdfn("eval", run, "--backend", "quantum")).code).toBe(2);
    const sharp = (await import("sharp")).default;
    const png = join(scratch, "ref.png");
    await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toFile(png);
    const q = await sdfn("query", run, "--image", png, "--text", "add a small green square", "-k", "2", "--recipe", join(run, "recipe.resolved.yaml"));
    expect(q.code).toBe(0);
    expect(q.out.trim().split("\n")).toHaveLength(3);

    // a file that is not an image is named; --set means a recipe override elsewhere, here it is --eval-set
    const notImage = join(scratch, "notes.png");
    writeFileSync(notImage, "not an image");
    const bad = await sdfn("query", run, "--image", notImage, "--text", "x");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(notImage);
    const unknownSet = await sdfn("query", run, "--image", png, "--text", "x", "--eval-set", "nope");
    expect(unknownSet.code).toBe(2);
    expect(unknownSet.err).toMatch(/--eval-set nope: no such evaluation set/);
  });

  it("build --backend wasm trains a conv encoder (sdfn registers the gradient kernels wasm lacks)", async () => {
    const out = join(scratch, "wasm-run");
    // tfjs's per-op leak check (IS_TEST) trips on tfjs-backend-wasm's own logSoftmax gradient
    // (tf.grad of tf.logSoftmax alone reports "1 data ids" on wasm), not on sdfn's kernels.
    tf.env().set("IS_TEST", false);
    const r = await sdfn("build", join(fixtures, "tiny.yaml"), "--backend", "wasm", "--out", out, "--log", "plain").finally(() => tf.env().set("IS_TEST", true));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as { status: string; backend: string; steps: number };
    expect(summary).toMatchObject({ status: "completed", backend: "wasm", steps: 6 });
  });

  it("eval --recipe of another network is refused (exit 2), naming the checkpoint, instead of dropping weights", async () => {
    const other = join(scratch, "other.yaml");
    writeFileSync(other, `extends: ${join(run, "recipe.resolved.yaml")}\nfusion:\n  layers: 1\n`);
    const r = await sdfn("eval", run, "--recipe", other);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/checkpoints\/best\/weights\.safetensors: the checkpoint holds \d+ tensor\(s\) this recipe's network does not have \(fusion\.layers\.1\./);
  });

  it("--resume RUN_DIR without a RECIPE continues from the run's own resolved recipe", async () => {
    const r = await sdfn("build", "--resume", run, "--log", "json");
    expect(r.code).toBe(0); // the same recipe hash: the finished run has nothing left to train
    const types = r.out.trim().split("\n").map((l) => JSON.parse(l).type);
    expect(types).not.toContain("step");
    expect(types.at(-1)).toBe("end");
  });

  it("--resume with a changed recipe fails and says why", async () => {
    const r = await sdfn("build", join(fixtures, "tiny.yaml"), "--resume", run, "--log", "plain", "--set", "training.epochs=3");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/different recipe/);
  });

  it("eval of a directory that is not a run is a usage error", async () => {
    const r = await sdfn("eval", scratch);
    expect(r.code).toBe(2);
    expect(r.err).toContain("recipe.resolved.yaml");
  });
});
