// Reference recalls shown beside a model's recall: chance of a random ranking
// (hand-computed), the dataset's baselines per set and averaged, and the one-line view.
import { describe, expect, it } from "vitest";
import type { EvalSet } from "../../src/data/types.js";
import { chanceHit, chanceRecall, referenceRecalls } from "../../src/eval/baselines.js";
import { comparisonLine } from "../../src/view/baselines.js";

const set = (name: string, gallery: number, queries: EvalSet["queries"]): EvalSet => ({
  name,
  gallery: Array.from({ length: gallery }, (_, i) => `${name}/${i}`),
  queries,
});

describe("reference recalls", () => {
  it("chance: k draws without replacement among the gallery less the excluded", () => {
    // 10 images, the reference excluded, 1 positive: 1 − (8/9 · 7/8 · 6/7) = 1/3 at k = 3.
    expect(chanceHit({ reference: "r", text: "t", positives: [0], exclude: [9] }, 10, 3)).toBeCloseTo(1 / 3, 12);
    // 2 positives among 10, k = 2: 1 − (8/10 · 7/9) = 34/90.
    expect(chanceHit({ reference: "r", text: "t", positives: [0, 1], exclude: [] }, 10, 2)).toBeCloseTo(34 / 90, 12);
    // k at least the candidates: always a hit.
    expect(chanceHit({ reference: "r", text: "t", positives: [0], exclude: [] }, 4, 10)).toBe(1);
    const one = set("a", 1024, [{ reference: "r", text: "t", positives: [3], exclude: [] }]);
    expect(chanceRecall(one, [10])["R@10"]).toBeCloseTo((100 * 10) / 1024, 10);
  });

  it("names them like the model's metrics, per set and averaged over sets", () => {
    const q = { reference: "r", text: "t", positives: [0], exclude: [] };
    const sets = [set("dress", 100, [q]), set("shirt", 50, [q])];
    const baselines = (s: EvalSet, ks: readonly number[]) => ({
      "text only": Object.fromEntries(ks.map((k) => [`R@${k}`, s.name === "dress" ? 20 : 40])),
    });
    const r = referenceRecalls({ evalSets: sets, baselines }, [10]);
    expect(Object.keys(r)).toEqual(["text only", "chance"]);
    expect(r["text only"]).toEqual({ "dress/R@10": 20, "shirt/R@10": 40, "avg/R@10": 30 });
    expect(r.chance!["dress/R@10"]).toBeCloseTo(10, 10);
    expect(r.chance!["shirt/R@10"]).toBeCloseTo(20, 10);
    expect(r.chance!["avg/R@10"]).toBeCloseTo(15, 10);
    // A dataset without baselines still gets chance.
    expect(Object.keys(referenceRecalls({ evalSets: sets }, [10]))).toEqual(["chance"]);
  });

  it("one line: the model's R@10 beside each reference, rounded", () => {
    const metrics = { "shapes/R@10": 61.3, "avg/R@1": 17.6, "avg/R@10": 61.3, "avg/mean": 40 };
    const refs = { "image only": { "avg/R@10": 27.15 }, "text only": { "avg/R@10": 30.1 }, chance: { "avg/R@10": 0.977 } };
    expect(comparisonLine(metrics, refs)).toBe("R@10 61 · image only 27 · text only 30 · chance 1.0");
    // Without R@10, the first K measured.
    expect(comparisonLine({ "avg/R@50": 80.4 }, { chance: { "avg/R@50": 4.88 } })).toBe("R@50 80 · chance 4.9");
    expect(comparisonLine(metrics, undefined)).toBeUndefined();
  });
});
