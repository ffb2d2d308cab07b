import { describe, expect, it } from "vitest";
import { bar, fit, formatCount, formatDuration, formatLoss, sparkline } from "../../../src/view/format.js";

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
    expect(sparkline([1, Number.NaN, 3], 3)).toBe("▁×█");
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
