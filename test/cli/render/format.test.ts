import { describe, expect, it } from "vitest";
import { bar, fit, formatCount, formatDuration, formatLoss, plural, sparkline } from "../../../src/view/format.js";
import { formatEpoch } from "../../../src/cli/render/lines.js";

describe("formatters", () => {
  it("formats durations, counts and losses", () => {
    expect([formatDuration(45), formatDuration(187), formatDuration(7500), formatDuration(97200)]).toEqual([
      "45s",
      "3m07s",
      "2h05m",
      "1d03h",
    ]);
    expect(formatDuration(Number.NaN)).toBe("?");
    expect([formatCount(950), formatCount(12_345), formatCount(23_510_000)]).toEqual(["950", "12.3k", "23.51M"]);
    expect([formatLoss(2.34119), formatLoss(0.00001234), formatLoss(Number.NaN), formatLoss(Infinity)]).toEqual([
      "2.3412",
      "1.2e-5",
      "NaN",
      "+Inf",
    ]);
  });

  it("draws a sparkline scaled between min and max of the recent values", () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe("▁▂▃▄▅▆▇█");
    // Only the last 3 values, rescaled to their own range.
    expect(sparkline([100, 0, 7, 14], 3)).toBe("▁▅█");
    expect(sparkline([2, 2], 5)).toBe("▄▄");
    expect(sparkline([0, 0, 0], 5)).toBe("▁▁▁"); // a loss that is off (path distillation in epoch 1) lies at the bottom
    expect(sparkline([1, Number.NaN, 3], 3)).toBe("▁×█");
  });

  it("counts in the singular for one", () => {
    expect([plural(1, "epoch"), plural(3, "epoch"), plural(0, "step")]).toEqual(["1 epoch", "3 epochs", "0 steps"]);
  });

  it("draws bars in eighths of a cell, always exactly the given width", () => {
    expect(bar(0.5, 4)).toBe("██  ");
    expect(bar(0.25, 5, "·")).toBe("█▎···"); // 10 eighths = 1 cell + 2/8
    expect(bar(1.5, 3)).toBe("███");
    expect(bar(Number.NaN, 3)).toBe("   ");
    for (const f of [0, 0.01, 0.33, 0.99]) expect(bar(f, 7)).toHaveLength(7);
  });

  it("fits text to a width with an ellipsis", () => {
    expect(fit("abcdef", 4)).toBe("abc…");
    expect(fit("ab", 4, "right")).toBe("  ab");
  });
});

describe("formatEpoch", () => {
  const epoch = { type: "epoch", time: 0, epoch: 0, losses: { total: 1.5 }, seconds: 12, samplesPerSec: 40 } as const;
  it("says how many steps were replayed and how many programs the epoch built (compiled steps only)", () => {
    expect(formatEpoch({ ...epoch, compiled: { programs: 2, replayed: 9, eager: 4 } }, 3, [], false)).toBe(
      "epoch 1/3 done in 12s · 40.0 samples/s · loss 1.5000 · 9 steps replayed, 4 eager, 2 programs built",
    );
    expect(formatEpoch({ ...epoch, compiled: { programs: 1, replayed: 0, eager: 2 } }, 3, [], false)).toMatch(/, 1 program built$/);
    expect(formatEpoch(epoch, 3, [], false)).toBe("epoch 1/3 done in 12s · 40.0 samples/s · loss 1.5000");
  });
});
