import { describe, expect, it } from "vitest";
import { downsample, lineChart, niceTicks } from "../../src/report/svg.js";

describe("SVG line charts", () => {
  it("picks nice ticks covering the range", () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.13, 2.7)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(1, 4, 6, 1)).toEqual([1, 2, 3, 4]); // whole epochs, not 1.5, 2.5
  });

  it("maps data to the plot area: (0,0) bottom-left, (10,1) top-right", () => {
    // 560×260 with margins left 56, right 16, top 28, bottom 36 + 18 (one legend row):
    // plot 488 × 178, so x 0→56, 10→544; y 0→206, 1→28.
    const svg = lineChart({ title: "t", xLabel: "step", series: [{ name: "a", points: [{ x: 0, y: 0 }, { x: 10, y: 1 }] }] });
    expect(svg).toContain(`points="56.0,206.0 544.0,28.0"`);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 560 260"/);
  });

  it("breaks a line at a non-finite value", () => {
    const svg = lineChart({
      title: "t",
      xLabel: "x",
      series: [{ name: "a", points: [0, 1, Number.NaN, 3, 4].map((y, x) => ({ x, y })) }],
    });
    expect(svg.match(/<polyline/g)).toHaveLength(2);
  });

  it("escapes titles and names", () => {
    const svg = lineChart({ title: "a<b>&", xLabel: "x", series: [{ name: `"q"`, points: [{ x: 0, y: 1 }] }] });
    expect(svg).toContain("a&lt;b&gt;&amp;");
    expect(svg).toContain("&quot;q&quot;");
    expect(svg).not.toContain("<b>");
  });

  it("downsamples by averaging equal spans of x", () => {
    const points = Array.from({ length: 1000 }, (_, i) => ({ x: i, y: i % 2 }));
    const down = downsample(points, 10);
    expect(down).toHaveLength(10);
    // Each span holds 100 points alternating 0/1: mean 0.5; x the mean of the span.
    for (const p of down) expect(p.y).toBeCloseTo(0.5, 9);
    expect(down[0].x).toBeCloseTo(49.5, 9);
  });
});
