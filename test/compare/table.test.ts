// The comparison table: columns per set then averages, mean ± sample std over seeds
// (hand-computed), the best per column marked (ties too), text / Markdown layouts.
import { describe, expect, it } from "vitest";
import type { Variant } from "../../src/compare/collect.js";
import { compareTable, formatMarkdown, formatText, metricColumns } from "../../src/compare/table.js";

const run = (metrics: Record<string, number>, seed: number) => ({ dir: `/r/${seed}`, seed, metrics, epoch: null, status: "completed", events: [] });
const variant = (name: string, ...runs: Record<string, number>[]): Variant => ({ name, label: name, runs: runs.map(run), missing: [] });

const twoSets = [
  variant("static", { "dress/R@10": 10, "shirt/R@10": 20, "avg/R@10": 15 }, { "dress/R@10": 14, "shirt/R@10": 22, "avg/R@10": 18 }),
  variant("msr", { "dress/R@10": 16, "shirt/R@10": 19, "avg/R@10": 17.5 }, { "dress/R@10": 18, "shirt/R@10": 21, "avg/R@10": 19.5 }, { "dress/R@10": 20, "shirt/R@10": 23, "avg/R@10": 21.5 }),
];

describe("compareTable", () => {
  it("orders the columns per set, the averages last; drops avg when a single set repeats it", () => {
    expect(metricColumns(twoSets)).toEqual(["dress/R@10", "shirt/R@10", "avg/R@10"]);
    expect(metricColumns([variant("a", { "shapes/R@1": 1, "avg/R@1": 1 })])).toEqual(["shapes/R@1"]);
  });

  it("gives mean ± sample standard deviation over the seeds and marks the best mean", () => {
    const t = compareTable(twoSets);
    // static dress: (10, 14) → mean 12, std √((4 + 4) / 1) = 2.828…
    expect(t.rows[0]!.cells["dress/R@10"]).toMatchObject({ mean: 12, n: 2, values: [10, 14] });
    expect(t.rows[0]!.cells["dress/R@10"]!.std).toBeCloseTo(Math.SQRT2 * 2, 10);
    // msr dress: (16, 18, 20) → mean 18, std √((4 + 0 + 4) / 2) = 2
    expect(t.rows[1]!.cells["dress/R@10"]).toMatchObject({ mean: 18, std: 2 });
    expect(t.best).toEqual({ "dress/R@10": ["msr"], "shirt/R@10": ["static", "msr"], "avg/R@10": ["msr"] }); // shirt: 21 and 21, a tie
  });

  it("prints text with * and Markdown with bold on the best", () => {
    const t = compareTable(twoSets);
    const text = formatText(t);
    expect(text).toMatch(/^variant\s+seeds\s+dress\/R@10\s+shirt\/R@10\s+avg\/R@10/);
    expect(text).toMatch(/static\s+2\s+12\.0 ± 2\.8 \s+21\.0 ± 1\.4 \*\s+16\.5 ± 2\.1/);
    expect(text).toMatch(/msr\s+3\s+18\.0 ± 2\.0 \*\s+21\.0 ± 2\.0 \*\s+19\.5 ± 2\.0 \*/);
    const md = formatMarkdown(t).split("\n");
    expect(md[0]).toBe("| variant | seeds | dress/R@10 | shirt/R@10 | avg/R@10 |");
    expect(md[2]).toBe("| static | 2 | 12.0 ± 2.8 | **21.0 ± 1.4** | 16.5 ± 2.1 |");
    expect(md[3]).toBe("| msr | 3 | **18.0 ± 2.0** | **21.0 ± 2.0** | **19.5 ± 2.0** |");
  });

  it("a variant with one run shows its value without ±; a variant without runs shows –", () => {
    const t = compareTable([variant("one", { "s/R@1": 5 }), { name: "none", label: "none", runs: [], missing: ["none/seed-0"] }]);
    expect(formatMarkdown(t)).toContain("| one | 1 | **5.0** |");
    expect(formatMarkdown(t)).toContain("| none | 0 (+1 missing) | – |");
  });
});
