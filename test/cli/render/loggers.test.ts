// The plain-lines and JSON-lines loggers, fed a synthetic run.
import { describe, expect, it } from "vitest";
import { eventsFromFile, eventToFile } from "../../../src/run/epochs.js";
import { createJsonSink } from "../../../src/cli/render/json.js";
import { formatEnd } from "../../../src/cli/render/lines.js";
import type { Output } from "../../../src/cli/render/output.js";
import { createPlainLogger } from "../../../src/cli/render/plain.js";
import type { TrainEvent } from "../../../src/train/events.js";
import { runInfo, stepEvent, syntheticRun, T0 } from "./fixtures/events.js";

const collect = () => {
  const chunks: string[] = [];
  const out: Output = { write: (t) => void chunks.push(t), closed: false, onClose: () => {} };
  return { out, lines: () => chunks.join("").split("\n").slice(0, -1) };
};

describe("plain logger", () => {
  const run = syntheticRun(runInfo()); // 3 epochs × 20 steps, 250 ms apart

  it("prints a line every N steps (about ten per epoch) and one per epoch, evaluation, checkpoint", () => {
    const { out, lines } = collect();
    const logger = createPlainLogger(out);
    run.forEach(logger.sink);
    const all = lines();
    // The very first step (a sign of life), then every = ceil(20 / 10) = 2 → 10 step lines per epoch.
    const steps = all.filter((l) => / step \d+\/20 /.test(l));
    expect(steps).toHaveLength(1 + 30);
    expect(steps[0]).toMatch(/^epoch 1\/3 step 1\/20 · loss \d\.\d{4} \(batch_classification /);
    expect(steps.slice(1, 4).map((l) => l.match(/step (\d+)\//)![1])).toEqual(["2", "4", "6"]);
    expect(all.filter((l) => /^epoch \d\/3 done in/.test(l))).toHaveLength(3);
    expect(all.filter((l) => l.startsWith("evaluation after epoch"))).toHaveLength(3);
    expect(all.filter((l) => l.startsWith("checkpoint (end of epoch"))).toHaveLength(3);
    expect(all[0]).toBe("sdfn-synthetic · cpu (cpu) · 1.23M parameters · runs/synthetic-001");
    expect(all[all.length - 1]).toMatch(/^done · epochs 3/);
    expect(all).toHaveLength(2 + 31 + 3 + 3 + 3 + 1);
    expect(all.join("\n")).not.toContain(String.fromCharCode(27));
  });

  it("evaluation lines carry every metric and mark the best", () => {
    const { out, lines } = collect();
    const logger = createPlainLogger(out);
    run.forEach(logger.sink);
    const evals = lines().filter((l) => l.startsWith("evaluation"));
    expect(evals[1]).toContain("dress/R@10 15.00 · dress/R@50 30.00");
    expect(evals[1]).toMatch(/primary avg\/R@10 16\.00 ★ best$/);
    expect(evals[2]).not.toContain("★");
  });

  it("a single evaluation set's metrics are listed once (no avg/… repeating them); the start says 1 epoch", () => {
    const { out, lines } = collect();
    const logger = createPlainLogger(out);
    const info = runInfo({ epochs: 1, stepsPerEpoch: 4 });
    logger.sink({ type: "start", time: T0, info });
    const metrics = { "shapes/R@1": 6.25, "shapes/mean": 34.38, "avg/R@1": 6.25, "avg/mean": 34.38 };
    logger.sink({ type: "evaluation", time: T0 + 1, epoch: 0, metrics, primary: { name: "avg/mean", value: 34.38 }, best: true });
    expect(lines()[1]).toBe("1 epoch × 4 steps · batch 4 · 3×4 fusion [JRM CAM GTM RCM]");
    expect(lines()[2]).toBe("evaluation after epoch 1: shapes/R@1 6.25 · shapes/mean 34.38 · primary avg/mean 34.38 ★ best");
  });

  it("also prints a step line when the last one is older than maxQuietMs", () => {
    const { out, lines } = collect();
    const logger = createPlainLogger(out, { every: 1000, maxQuietMs: 1000 });
    run.slice(0, 21).forEach(logger.sink);
    // Steps at 250 ms intervals: the first, then every 4th.
    expect(lines().filter((l) => l.includes(" step ")).map((l) => l.match(/step (\d+)\//)![1])).toEqual([
      "1",
      "5",
      "9",
      "13",
      "17",
    ]);
  });

  it("prints the stop notice and the resume command alone on its last line", () => {
    const { out, lines } = collect();
    const logger = createPlainLogger(out);
    logger.sink(run[0]);
    logger.stopping();
    logger.sink({ type: "stopped", time: T0, reason: "interrupt", message: "stopped at step 3", resumeCommand: "sdfn build r.yaml --resume 'runs/a b/ckpt'" });
    expect(lines().slice(-4)).toEqual([
      "stopping after the current step; a checkpoint follows (Ctrl-C again exits now)",
      "stopped (interrupt): stopped at step 3",
      "resume with:",
      "sdfn build r.yaml --resume 'runs/a b/ckpt'",
    ]);
  });
});

describe("JSON-lines logger", () => {
  it("writes each event as one JSON line as metrics.jsonl holds it (epochs from 1), parsing back to the event", () => {
    const { out, lines } = collect();
    const sink = createJsonSink(out);
    const run = syntheticRun(runInfo({ epochs: 1, stepsPerEpoch: 3 }));
    run.forEach(sink);
    const parsed = lines().map((l) => JSON.parse(l) as TrainEvent);
    expect(parsed).toEqual(run.map(eventToFile));
    expect(parsed.filter((e) => e.type === "epoch").map((e) => e.epoch)).toEqual([1]);
    expect(eventsFromFile(parsed).events).toEqual(run.map((e) => (e.type === "start" ? { ...e, info: { ...e.info, epochsFrom: 1 } } : e)));
  });

  it("writes a non-finite loss as null (valid JSON)", () => {
    const { out, lines } = collect();
    const step = stepEvent(0, 0, runInfo(), T0);
    createJsonSink(out)({ ...step, total: Number.NaN });
    expect(JSON.parse(lines()[0]).total).toBeNull();
  });
});

describe("the closing line", () => {
  it("summarises the trainer's summary: status, best, time, run directory", () => {
    const summary = { status: "completed", best: { name: "avg/mean", value: 23.456, epoch: 2 }, seconds: 125, run_dir: "runs/q", recipe_hash: "ab".repeat(32) };
    expect(formatEnd({ type: "end", time: T0, summary })).toBe("done (completed) · best avg/mean 23.46 after epoch 3 · 2m05s · runs/q");
  });

  it("puts the model's R@10 beside the single-modality baselines and chance when the summary has them", () => {
    const summary = {
      status: "completed",
      metrics: { "avg/R@10": 61.3, "avg/mean": 50 },
      baselines: { "image only": { "avg/R@10": 27.1 }, "text only": { "avg/R@10": 30.1 }, chance: { "avg/R@10": 0.98 } },
      seconds: 125,
      run_dir: "runs/q",
    };
    expect(formatEnd({ type: "end", time: T0, summary })).toBe("done (completed) · R@10 61 · image only 27 · text only 30 · chance 1.0 · 2m05s · runs/q");
  });
});
