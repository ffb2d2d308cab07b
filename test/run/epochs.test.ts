// Epoch numbers are 1-based in every file a run writes (metrics.jsonl, summary.json, meta.json)
// and read back 0-based in memory; run directories written before (0-based files, meta format 1)
// still read right and resume.
import * as tf from "@tensorflow/tfjs";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/index.js";
import { readRun } from "../../src/report/read.js";
import { CheckpointError, readCheckpoint } from "../../src/run/checkpoint.js";
import { eventsFromFile, eventToFile, positionText, weightsEpoch } from "../../src/run/epochs.js";
import { train } from "../../src/run/train.js";
import type { TrainEvent } from "../../src/train/events.js";

tf.env().set("IS_TEST", true);

const RECIPE = join(import.meta.dirname, "../train/fixtures/tiny.yaml");
const scratch = mkdtempSync(join(tmpdir(), "sdfn-epochs-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const lines = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, any>);
const json = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Record<string, any>;

async function run(outDir: string, opts: { resume?: boolean; abortAfterEpoch?: number } = {}) {
  const loaded = await loadRecipe(RECIPE);
  const controller = new AbortController();
  const events: TrainEvent[] = [];
  const summary = await train(loaded, {
    outDir,
    resume: opts.resume ? outDir : undefined,
    signal: controller.signal,
    onEvent: (e) => {
      events.push(e);
      if (e.type === "epoch" && e.epoch === opts.abortAfterEpoch) controller.abort();
    },
  });
  return { summary, events };
}

/** Rewrites checkpoints/last/meta.json as a run from before format 2 wrote it (epochs 0-based), manifest included. */
function downgradeToFormat1(runDir: string): void {
  const unit = join(runDir, "checkpoints", "last");
  const metaFile = join(unit, "meta.json");
  const meta = json(metaFile);
  const old = { ...meta, format: 1, epoch: meta.epoch - 1, best: meta.best && { ...meta.best, epoch: meta.best.epoch - 1 } };
  writeFileSync(metaFile, `${JSON.stringify(old, null, 2)}\n`);
  const manifestFile = join(unit, "manifest.json");
  const manifest = json(manifestFile);
  const bytes = readFileSync(metaFile);
  manifest.files["meta.json"] = { bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
  writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  // metrics.jsonl as it was: no mark on the start event, epochs from 0
  const metrics = join(runDir, "metrics.jsonl");
  const events = lines(metrics).map((e) => {
    if (e.type === "start") return { ...e, info: { ...e.info, epochsFrom: undefined, startEpoch: e.info.startEpoch - 1 } };
    return typeof e.epoch === "number" ? { ...e, epoch: e.epoch - 1 } : e;
  });
  writeFileSync(metrics, events.map((e) => `${JSON.stringify(e)}\n`).join(""));
}

describe("epoch numbers in files", () => {
  it("a 2-epoch run writes epochs 1 and 2 everywhere; memory and the reader keep 0 and 1", async () => {
    const dir = join(scratch, "fresh");
    const { summary, events } = await run(dir);
    expect(summary.status).toBe("completed");
    // In memory: 0-based indices.
    expect(events.filter((e) => e.type === "epoch").map((e) => (e as { epoch: number }).epoch)).toEqual([0, 1]);

    const written = lines(join(dir, "metrics.jsonl"));
    expect(written[0]).toMatchObject({ type: "start", info: { startEpoch: 1, epochsFrom: 1 } });
    expect(written.filter((e) => e.type === "epoch").map((e) => e.epoch)).toEqual([1, 2]);
    expect(written.filter((e) => e.type === "evaluation").map((e) => e.epoch)).toEqual([1, 2]);
    expect(new Set(written.filter((e) => e.type === "step").map((e) => e.epoch))).toEqual(new Set([1, 2]));
    expect(written.filter((e) => e.type === "checkpoint").every((e) => e.epoch === 1 || e.epoch === 2)).toBe(true);

    // summary.json's best epoch is the file's starred evaluation, numbered the same way.
    const best = written.filter((e) => e.type === "evaluation" && e.best).at(-1)!;
    expect(json(join(dir, "summary.json")).best).toEqual({ name: best.primary.name, value: best.primary.value, epoch: best.epoch });
    expect(summary.best!.epoch).toBe(best.epoch - 1);

    // meta.json: format 2; a resume would start epoch 3 (none left).
    expect(json(join(dir, "checkpoints", "last", "meta.json"))).toMatchObject({ format: 2, epoch: 3, epochStep: 0 });
    const last = readCheckpoint(dir, "last", false).meta;
    expect(last).toMatchObject({ epoch: 2, epochStep: 0 });
    expect(positionText(last)).toBe("after epoch 2");
    expect(weightsEpoch(last)).toBe(2);

    const record = readRun(dir);
    expect(record.events.filter((e) => e.type === "epoch").map((e) => (e as { epoch: number }).epoch)).toEqual([0, 1]);
    expect((record.summary!.best as { epoch: number }).epoch).toBe(summary.best!.epoch);
  });

  it("a run directory from before (meta format 1, 0-based metrics.jsonl) resumes, and its file reads right in both segments", async () => {
    const dir = join(scratch, "old");
    const first = await run(dir, { abortAfterEpoch: 0 });
    expect(first.summary.status).toBe("interrupted");
    downgradeToFormat1(dir);
    expect(readCheckpoint(dir, "last", false).meta).toMatchObject({ format: 1, epoch: 1, epochStep: 0 }); // read as written

    const resumed = await run(dir, { resume: true });
    expect(resumed.summary.status).toBe("completed");
    expect(resumed.events.filter((e) => e.type === "epoch").map((e) => (e as { epoch: number }).epoch)).toEqual([1]); // only epoch 2 was left

    // The file holds an old segment (0-based, unmarked) and a new one (1-based, marked).
    const written = lines(join(dir, "metrics.jsonl"));
    expect(written.filter((e) => e.type === "epoch").map((e) => e.epoch)).toEqual([0, 2]);
    expect(readRun(dir).events.filter((e) => e.type === "epoch").map((e) => (e as { epoch: number }).epoch)).toEqual([0, 1]);
    expect(json(join(dir, "checkpoints", "last", "meta.json"))).toMatchObject({ format: 2, epoch: 3 });
  });

  it("a meta.json of an unknown format names the file", () => {
    const dir = join(scratch, "fresh");
    const metaFile = join(dir, "checkpoints", "best", "meta.json");
    const meta = json(metaFile);
    writeFileSync(metaFile, JSON.stringify({ ...meta, format: 9 }));
    const manifestFile = join(dir, "checkpoints", "best", "manifest.json");
    const manifest = json(manifestFile);
    const bytes = readFileSync(metaFile);
    manifest.files["meta.json"] = { bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
    writeFileSync(manifestFile, JSON.stringify(manifest));
    rmSync(join(dir, "checkpoints", "best.prev"), { recursive: true, force: true });
    expect(() => readCheckpoint(dir, "best", false)).toThrow(CheckpointError);
    expect(() => readCheckpoint(dir, "best", false)).toThrow(`${metaFile}: checkpoint format 9 is not one this sdfn reads (1, 2)`);
  });

  it("the conversion is its own inverse, and a mid-epoch position reads as the epoch in progress", () => {
    const step: TrainEvent = { type: "step", time: 0, epoch: 0, step: 0, epochStep: 0, stepsPerEpoch: 1, losses: {}, total: 0, lr: 0, samplesPerSec: 0, routing: [] };
    const end: TrainEvent = { type: "end", time: 0, summary: { best: { name: "m", value: 1, epoch: 4 } } };
    const info = { recipeName: "t", runDir: "/r", backend: "cpu", device: "cpu", parameters: 1, epochs: 2, stepsPerEpoch: 1, batchSize: 1, layers: [], losses: [], startEpoch: 0 };
    const start: TrainEvent = { type: "start", time: 0, info };
    const written = [start, step, end].map(eventToFile);
    expect(written.map((e) => (e.type === "step" ? e.epoch : e.type === "end" ? (e.summary.best as { epoch: number }).epoch : e.type === "start" ? e.info.startEpoch : null))).toEqual([1, 1, 5]);
    expect(eventsFromFile(written)).toEqual({ events: [{ ...start, info: { ...info, epochsFrom: 1 } }, step, end], oneBased: true });
    expect(positionText({ epoch: 2, epochStep: 7 })).toBe("in epoch 3, step 7");
    expect(weightsEpoch({ epoch: 2, epochStep: 7 })).toBe(3);
    expect(positionText({ epoch: 0, epochStep: 0 })).toBe("before the first epoch");
  });
});
