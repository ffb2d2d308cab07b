import { describe, expect, it } from "vitest";
import { cosine } from "../../src/train/schedules/cosine.js";
import { multistep } from "../../src/train/schedules/multistep.js";
import { step } from "../../src/train/schedules/step.js";

const ctx = { baseLr: 1, epochs: 4, stepsPerEpoch: 2 };

describe("schedules", () => {
  it("step: × gamma from each milestone epoch on", () => {
    const s = step.build(step.params.parse({ milestones: [1, 3], gamma: 0.1 }), ctx);
    expect([0, 1, 2, 3, 6, 7].map((i) => s.lrAt(i))).toEqual([1, 1, 0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1]);
  });

  it("multistep: a factor per milestone", () => {
    const s = multistep.build(multistep.params.parse({ milestones: [1, 2], factors: [0.5, 0.2] }), ctx);
    expect([1, 2, 4].map((i) => s.lrAt(i))).toEqual([1, 0.5, 0.5 * 0.2]);
  });

  it("cosine: linear warmup, then half a cosine down to min_lr", () => {
    const s = cosine.build(cosine.params.parse({ warmup_epochs: 1, min_lr: 0.1 }), ctx);
    expect(s.lrAt(0)).toBeCloseTo(0.5, 12);
    expect(s.lrAt(1)).toBeCloseTo(1, 12);
    expect(s.lrAt(2)).toBeCloseTo(1, 12); // progress 0 of 6 decay steps
    expect(s.lrAt(5)).toBeCloseTo(0.1 + 0.45 * (1 + Math.cos(Math.PI / 2)), 12); // progress 3/6
    expect(s.lrAt(8)).toBeCloseTo(0.1, 12);
  });
});
