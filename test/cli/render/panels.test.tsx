// Each dashboard panel rendered by Ink (ink-testing-library) from synthetic events.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render } from "ink-testing-library";
import {
  Dashboard,
  EvaluationPanel,
  Header,
  LossesPanel,
  MessagesPanel,
  ProgressPanel,
  RoutingPanel,
} from "../../../src/cli/render/dashboard.js";
import { applyEvent, emptyState, markStopping, type DashboardState } from "../../../src/cli/render/state.js";
import type { TrainEvent } from "../../../src/train/events.js";
import { evaluationEvent, runInfo, stepEvent, syntheticRun, T0 } from "./fixtures/events.js";

afterEach(cleanup);

const stateOf = (events: TrainEvent[]): DashboardState => {
  const s = emptyState();
  for (const e of events) applyEvent(s, e);
  return s;
};

/** The last frame, after a second render (ProgressBar measures its width on the first). */
function frame(node: React.ReactElement): string {
  const r = render(node);
  r.rerender(node);
  return r.lastFrame() ?? "";
}

const ESC = String.fromCharCode(27);
const plain = (text: string) => text.replace(new RegExp(`${ESC}\\[[0-9;]*m`, "g"), "");

describe("dashboard panels", () => {
  const info = runInfo();
  const run = syntheticRun(info);
  // Midway: epoch 2 (index 1), step 10 of 20, one evaluation done.
  const mid = run.slice(0, 1 + 20 + 3 + 10);

  it("header shows recipe, backend and device, parameter count and run dir", () => {
    const text = plain(frame(<Header state={stateOf(mid)} width={100} />));
    expect(text).toContain("sdfn-synthetic · cpu (cpu) · 1.23M params · runs/synthetic-001");
  });

  it("header shows a spinner line before the run starts", () => {
    expect(plain(frame(<Header state={emptyState()} width={80} />))).toContain("starting");
  });

  it("progress shows epoch and step bars with percentages, ETA and samples/s", () => {
    const text = plain(frame(<ProgressPanel state={stateOf(mid)} width={80} />));
    const lines = text.split("\n");
    // Epoch 2 of 3 with 10 of 20 steps: (1 + 10/20) / 3 = 50 %; steps 10/20 = 50 %.
    expect(lines[0]).toMatch(/^epoch 2\/3\s+.*\s50%$/);
    expect(lines[1]).toMatch(/^step 10\/20\s+.*\s50%$/);
    // The bar is half filled: as many █ as ░ (±1 for rounding), and it is drawn.
    const filled = (lines[0].match(/█/g) ?? []).length;
    const empty = (lines[0].match(/░/g) ?? []).length;
    expect(filled).toBeGreaterThan(10);
    expect(Math.abs(filled - empty)).toBeLessThanOrEqual(1);
    // 10 + 20 steps left at 0.25 s, plus 2 more evaluations of 2 s = 11.5 s.
    expect(lines[2]).toContain("ETA 12s");
    expect(lines[2]).toContain("16.0 samples/s");
    expect(lines[2]).toContain("lr 1.0e-4");
  });

  it("losses show each component's latest value and a sparkline, total last", () => {
    const s = stateOf(mid);
    const text = plain(frame(<LossesPanel state={s} width={80} />));
    const last = mid[mid.length - 1] as Extract<TrainEvent, { type: "step" }>;
    const rows = text.split("\n").slice(1);
    expect(rows.map((r) => r.trim().split(/\s+/)[0])).toEqual([
      "batch_classification",
      "consistency",
      "path_distillation",
      "total",
    ]);
    expect(rows[0]).toContain(last.losses.batch_classification.toFixed(4));
    expect(rows[3]).toContain(last.total.toFixed(4));
    // batch_classification falls monotonically: its sparkline starts at █ and ends at ▁.
    const spark = rows[0].trim().split(/\s+/)[2];
    expect(spark[0]).toBe("█");
    expect(spark[spark.length - 1]).toBe("▁");
  });

  it("routing shows one bar row per layer with each module's mean weight", () => {
    const s = emptyState();
    applyEvent(s, { type: "start", time: T0, info });
    const step = stepEvent(0, 0, info, T0 + 1);
    applyEvent(s, { ...step, routing: [[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1]] });
    applyEvent(s, { ...step, routing: [[0.3, 0.2, 0.1, 0.4], [0.25, 0.25, 0.25, 0.25], [0.5, 0.3, 0.1, 0.1]] });
    const rows = plain(frame(<RoutingPanel state={s} width={80} />)).split("\n");
    expect(rows[0]).toContain("last 2 steps");
    expect(rows[1]).toMatch(/into L2\s+JRM .* 0\.20\s+CAM .* 0\.20\s+GTM .* 0\.20\s+RCM .* 0\.40/);
    expect(rows[2]).toMatch(/into L3\s+JRM .* 0\.25/);
    expect(rows[3]).toMatch(/out w \(L3\)\s+JRM (\S+) 0\.60\s+CAM (\S+) 0\.20/);
    // 0.60 draws a longer bar than 0.20.
    const [, jrm, cam] = rows[3].match(/JRM (\S+) 0\.60\s+CAM (\S+) 0\.20/)!;
    expect(jrm.replace(/·/g, "").length).toBeGreaterThan(cam.replace(/·/g, "").length);
  });

  it("evaluation lists R@K per category after each evaluation and stars the best", () => {
    const s = stateOf(run); // 3 evaluations; the second is the last marked best
    const rows = plain(frame(<EvaluationPanel state={s} width={80} maxRows={5} />)).split("\n");
    expect(rows[0]).toMatch(/Evaluation\s+dress\s+shirt\s+toptee\s+avg/);
    expect(rows[1]).toMatch(/epoch\s+R@10\s+R@50\s+R@10/);
    expect(rows.slice(2).map((r) => r.trim().split(/\s+/).slice(0, 3))).toEqual([
      ["1", "10.00", "20.00"],
      ["★", "2", "15.00"],
      ["3", "20.00", "40.00"],
    ]);
  });

  it("a single evaluation set is shown once: no avg group repeating it; the references' names whole", () => {
    const metrics = { "shapes/R@1": 6.25, "shapes/R@5": 62.5, "shapes/mean": 34.38, "avg/R@1": 6.25, "avg/R@5": 62.5, "avg/mean": 34.38 };
    const baselines = { "image only": { "shapes/R@1": 25, "avg/R@1": 25 }, "text only": { "shapes/R@1": 25, "avg/R@1": 25 } };
    const e: TrainEvent = { type: "evaluation", time: T0, epoch: 0, metrics, primary: { name: "avg/mean", value: 34.38 }, best: true, baselines };
    const rows = plain(frame(<EvaluationPanel state={stateOf([e])} width={100} maxRows={5} />)).split("\n");
    expect(rows[0]!.trimEnd()).toMatch(/^Evaluation\s+shapes$/);
    expect(rows[1]!.trim().split(/\s+/)).toEqual(["epoch", "R@1", "R@5", "mean"]);
    expect(rows[2]!.trim().split(/\s+/)).toEqual(["★", "1", "6.25", "62.50", "34.38"]);
    expect(rows[3]!.trimEnd()).toBe(" image only 25.00");
    expect(rows[4]!.trimEnd()).toBe(" text only  25.00");
  });

  it("the run's header is drawn once: the live header, and the run's shape as a finished line", () => {
    const info = runInfo({ epochs: 1, stepsPerEpoch: 3 });
    const s = stateOf([{ type: "start", time: T0, info }, stepEvent(0, 0, info, T0 + 250)]);
    expect(s.finished.map((l) => l.text)).toEqual(["1 epoch × 3 steps · batch 4 · 3×4 fusion [JRM CAM GTM RCM]"]);
    const text = plain(frame(<Dashboard state={s} columns={100} rows={40} />));
    expect(text.match(/sdfn-synthetic · cpu \(cpu\)/g)).toHaveLength(1);
  });

  it("evaluation keeps the best row when only the latest fit", () => {
    const s = stateOf([evaluationEvent(0, 1, true), evaluationEvent(1, 2, false), evaluationEvent(2, 3, false)]);
    const rows = plain(frame(<EvaluationPanel state={s} width={80} maxRows={2} />)).split("\n");
    expect(rows.slice(2).map((r) => r.trim().split(/\s+/).slice(0, 2))).toEqual([
      ["★", "1"],
      ["3", "20.00"],
    ]);
  });

  it("evaluation shows the references (chance, baselines) under the model's rows, in the same columns", () => {
    const e = { ...evaluationEvent(0, 1, true), baselines: { "text only": { "dress/R@10": 30.1, "avg/R@10": 29 }, chance: { "avg/R@10": 1 } } };
    const rows = plain(frame(<EvaluationPanel state={stateOf([e])} width={120} maxRows={5} />)).split("\n");
    expect(rows).toHaveLength(5); // group header, metric header, the evaluation, two references
    expect(rows[3]!.trim().split(/\s+/)).toEqual(["text", "only", "30.10", "29.00"]);
    expect(rows[4]!.trim().split(/\s+/)).toEqual(["chance", "1.00"]);
    // The reference's values sit under the model's: the same column offsets.
    expect(rows[3]!.indexOf("30.10") + 5).toBe(rows[2]!.indexOf("10.00") + 5);
  });

  it("messages show checkpoints, warnings and the stop request, latest last", () => {
    const s = stateOf([
      ...run.slice(0, 24),
      { type: "warning", time: T0 + 1, message: "3 images missing; skipped" },
    ]);
    markStopping(s, T0 + 2);
    const rows = plain(frame(<MessagesPanel state={s} width={80} maxRows={3} />)).split("\n");
    expect(rows).toEqual([
      "Messages",
      " checkpoint (end of epoch 1): runs/synthetic-001/checkpoints/epoch-1",
      " warning: 3 images missing; skipped",
      " stop requested: finishing the current step, then a checkpoint",
    ]);
  });

  for (const [columns, rows] of [
    [80, 24],
    [120, 40],
  ] as const)
    it(`the whole dashboard fits a ${columns}×${rows} terminal`, () => {
      const text = plain(frame(<Dashboard state={stateOf(run.slice(0, -1))} columns={columns} rows={rows} />));
      const lines = text.split("\n");
      expect(lines.length).toBeLessThan(rows);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(columns);
      for (const title of ["Losses", "Routing", "Evaluation", "Messages"]) expect(text).toContain(title);
    });
});

describe("narrow terminals", () => {
  it("routing with many modules continues on the next line instead of overflowing", () => {
    const names = ["JRM", "CAM", "GTM", "RCM", "acme/A", "acme/B", "acme/C", "acme/D"];
    const info = runInfo({ layers: [names, names] });
    const s = stateOf([{ type: "start", time: T0, info }, { ...stepEvent(0, 0, info, T0), routing: [names.map(() => 1 / 8), names.map(() => 1 / 8)] }]);
    const rows = plain(frame(<RoutingPanel state={s} width={60} />)).split("\n");
    // 60 − 11 (label) − 1 = 48 columns hold 2 cells of 6 + 11: 4 lines per routing row.
    expect(rows).toHaveLength(1 + 2 * 4);
    for (const row of rows) expect(row.length).toBeLessThanOrEqual(60);
    expect(rows.slice(1, 5).join(" ").match(/0\.13/g)).toHaveLength(8);
    expect(rows[1]).toMatch(/^ into L2 +JRM .* CAM /);
    expect(rows[3]).toMatch(/^ {12}acme\/A .* acme\/B /);
  });

  it("the evaluation table names the groups it has no room for", () => {
    const s = stateOf([evaluationEvent(0, T0, true)]);
    const rows = plain(frame(<EvaluationPanel state={s} width={50} maxRows={2} />)).split("\n");
    // 50 − 11 columns hold 5 metrics: 2 groups of 2 (avg, the primary's, first), 2 groups left out.
    expect(rows[0]).toMatch(/^Evaluation +dress +avg +\+2 hidden$/);
    expect(rows[1]).toMatch(/epoch +R@10 +R@50 +R@10 +R@50$/);
  });
});
