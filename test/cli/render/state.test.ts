import { describe, expect, it } from "vitest";
import { applyEvent, emptyState, etaSeconds, routingMeans } from "../../../src/cli/render/state.js";
import { routingRows } from "../../../src/view/routing.js";
import { LAYERS, runInfo, stepEvent, T0 } from "./fixtures/events.js";

describe("dashboard state", () => {
  it("averages routing over the recent window, per row and module", () => {
    const s = emptyState();
    const info = runInfo();
    applyEvent(s, { type: "start", time: T0, info });
    const a = { ...stepEvent(0, 0, info, T0 + 100), routing: [[0.1, 0.2, 0.3, 0.4]] };
    const b = { ...stepEvent(0, 1, info, T0 + 200), routing: [[0.3, 0.2, 0.1, 0.4]] };
    applyEvent(s, a);
    applyEvent(s, b);
    expect(routingMeans(s)[0].map((v) => +v.toFixed(6))).toEqual([0.2, 0.2, 0.2, 0.4]);
  });

  it("labels routing rows as events.ts defines them: incoming of layers 2..L, then output w", () => {
    expect(routingRows(LAYERS, 3).map((r) => r.label)).toEqual(["into L2", "into L3", "out w (L3)"]);
    expect(routingRows([["JRM", "RCM"]], 1)).toEqual([{ label: "out w (L1)", modules: ["JRM", "RCM"] }]);
  });

  it("estimates the time left from back-to-back steps and the last evaluation's duration", () => {
    const s = emptyState();
    const info = runInfo({ epochs: 2, stepsPerEpoch: 10 });
    applyEvent(s, { type: "start", time: T0, info });
    // Epoch 0: steps 1 s apart, then an evaluation taking 5 s after the epoch event.
    for (let i = 0; i < 10; i++) applyEvent(s, stepEvent(0, i, info, T0 + 1000 * (i + 1)));
    applyEvent(s, { type: "epoch", time: T0 + 10_000, epoch: 0, losses: {}, seconds: 10, samplesPerSec: 4 });
    applyEvent(s, { type: "evaluation", time: T0 + 15_000, epoch: 0, metrics: {}, primary: { name: "x", value: 1 }, best: true });
    // The step after the evaluation must not count the 5 s pause as step time.
    applyEvent(s, stepEvent(1, 0, info, T0 + 16_000));
    expect(s.secondsPerStep).toBeCloseTo(1, 9);
    // 9 steps left at 1 s + one more evaluation of 5 s.
    expect(etaSeconds(s)).toBeCloseTo(14, 9);
  });

  it("keeps the last evaluation marked best as the best", () => {
    const s = emptyState();
    const ev = (epoch: number, value: number, best: boolean) =>
      applyEvent(s, { type: "evaluation", time: T0 + epoch, epoch, metrics: { "avg/R@10": value }, primary: { name: "avg/R@10", value }, best });
    ev(0, 10, true);
    ev(1, 12, true);
    ev(2, 11, false);
    expect(s.bestEvaluation?.epoch).toBe(1);
  });
});
