// The sweep's one line per run: redrawn in place on a terminal (epoch, step, loss,
// samples/s, recall), start and end lines in a pipe, JSON lines with --log json.
import { describe, expect, it } from "vitest";
import { createSweepLines } from "../../../src/cli/render/sweep-lines.js";
import type { PlannedRun } from "../../../src/sweep/plan.js";
import type { SweepEvent } from "../../../src/sweep/run.js";
import { runInfo, stepEvent, T0 } from "./fixtures/events.js";

const run: PlannedRun = { id: "type-msr/seed-1", variant: "type-msr", label: "fusion.router.type=msr", recipe: "/r.yaml", sets: [], seed: 1 };
const info = runInfo({ epochs: 2, stepsPerEpoch: 4 });
const events: SweepEvent[] = [
  { type: "run-start", index: 2, count: 12, run, dir: "/s/type-msr/seed-1", state: "resumable" },
  { type: "run-event", index: 2, run, event: { type: "start", time: T0, info } },
  { type: "run-event", index: 2, run, event: { ...stepEvent(1, 2, info, T0 + 1000), total: 1.23456, samplesPerSec: 42 } },
  { type: "run-event", index: 2, run, event: { type: "evaluation", time: T0 + 2000, epoch: 1, metrics: {}, primary: { name: "avg/mean", value: 33.333 }, best: true } },
  { type: "run-end", index: 2, count: 12, run, dir: "/s/type-msr/seed-1", skipped: false, summary: { status: "completed", recall: { "R@10": 26.44, mean: 30 }, seconds: 71.4 } },
];

function render(mode: "tty" | "plain" | "json") {
  let out = "";
  const lines = createSweepLines((t) => (out += t), mode);
  for (const e of events) lines.sink(e);
  lines.close();
  return out;
}

describe("sweep lines", () => {
  it("in a pipe: a line when the run starts and one when it ends", () => {
    expect(render("plain").split("\n")).toEqual([
      "[ 3/12] type-msr/seed-1  resuming (fusion.router.type=msr)",
      "[ 3/12] type-msr/seed-1  completed  R@10 26.4  mean 30.0  71 s",
      "",
    ]);
  });

  it("on a terminal: the run's line redrawn with its progress, left as its end state", () => {
    const out = render("tty");
    const frames = out.split("\r\x1b[K");
    expect(frames[0]).toBe("[ 3/12] type-msr/seed-1  resuming…");
    expect(frames).toContain("[ 3/12] type-msr/seed-1  epoch 2/2  step 3/4  loss 1.235  42 samples/s  avg/mean 33.3");
    expect(frames.at(-1)).toBe("[ 3/12] type-msr/seed-1  completed  R@10 26.4  mean 30.0  71 s\n");
  });

  it("a run finished earlier is one line", () => {
    let out = "";
    const lines = createSweepLines((t) => (out += t), "tty");
    lines.sink({ type: "run-start", index: 0, count: 2, run, dir: "/d", state: "finished" });
    lines.sink({ type: "run-end", index: 0, count: 2, run, dir: "/d", skipped: true, summary: { status: "completed", recall: { "R@10": 5 } } });
    expect(out).toBe("[1/2] type-msr/seed-1  finished earlier  R@10 5.0\n");
  });

  it("--log json: every sweep event as a JSON line", () => {
    const out = render("json").trim().split("\n").map((l) => JSON.parse(l));
    expect(out.map((e) => e.type)).toEqual(["run-start", "run-event", "run-event", "run-event", "run-end"]);
  });
});
