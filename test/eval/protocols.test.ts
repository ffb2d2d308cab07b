import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/eval/evaluate.js";
import { summaryRecall } from "../../src/eval/protocols.js";
import { recallAt, topK } from "../../src/eval/retrieval.js";
import type { EvalSet } from "../../src/data/types.js";
import { handMade } from "./fakes.js";

tf.env().set("IS_TEST", true);

describe("FashionIQ val protocol (per category, reference excluded, averages)", () => {
  // dress: g0 (1,0), g1 (.8,.6), g2 (.6,.8), g3 (0,1); shirt: h0 (1,0), h1 (0,1).
  const fake = () =>
    handMade(
      { g0: [1, 0], g1: [0.8, 0.6], g2: [0.6, 0.8], g3: [0, 1], h0: [1, 0], h1: [0, 1] },
      { east: [1, 0], north: [0, 1] },
    );
  const sets: EvalSet[] = [
    {
      name: "dress",
      gallery: ["g0", "g1", "g2", "g3"],
      queries: [
        // cos to g0..g3 = 1, .8, .6, 0; g0 is the reference: excluded, so g1 ranks first.
        { reference: "g0", text: "east", positives: [1], exclude: [0] },
        // cos = 0, .6, .8, 1; g3 excluded; g2 (.8) beats g1 (.6): rank 1.
        { reference: "g3", text: "north", positives: [1], exclude: [3] },
      ],
    },
    { name: "shirt", gallery: ["h0", "h1"], queries: [{ reference: "h0", text: "north", positives: [1], exclude: [0] }] },
  ];

  it("gives R@K per category, the category averages and their mean", async () => {
    const { net, loader, dispose } = fake();
    const before = tf.memory().numTensors;
    const m = await evaluate(net, loader, sets, { ks: [1, 2], batchSize: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(m).toEqual({
      "dress/R@1": 50,
      "dress/R@2": 100,
      "dress/mean": 75,
      "shirt/R@1": 100,
      "shirt/R@2": 100,
      "shirt/mean": 100,
      "avg/R@1": 75,
      "avg/R@2": 100,
      "avg/mean": 87.5,
    });
    expect(summaryRecall(m, [1, 2])).toEqual({ "R@1": 75, "R@2": 100, mean: 87.5 });
    dispose();
  });

  it("without excluding the reference the first query would miss R@1 (the exclusion is what makes it hit)", async () => {
    const { net, loader, dispose } = fake();
    const noExclusion = sets.map((s) => ({ ...s, queries: s.queries.map((q) => ({ ...q, exclude: [] })) }));
    const m = await evaluate(net, loader, noExclusion, { ks: [1], batchSize: 2 });
    expect(m["dress/R@1"]).toBe(0);
    dispose();
  });
});

describe("FashionIQ original protocol (gallery = the val split, reference may be outside it)", () => {
  it("ranks against the split gallery with nothing to exclude", async () => {
    const { net, loader, dispose } = handMade({ a: [1, 0], b: [0.9, 0.1], c: [0, 1] }, { east: [1, 0] });
    const set: EvalSet = { name: "toptee", gallery: ["a", "b", "c"], queries: [{ reference: "z", text: "east", positives: [1], exclude: [] }] };
    const m = await evaluate(net, loader, [set], { ks: [1, 2], batchSize: 8 });
    expect([m["toptee/R@1"], m["toptee/R@2"]]).toEqual([0, 100]); // a (cos 1) ranks above the target b
    dispose();
  });
});

describe("Shoes protocol (eval images, R@1/10/50 and their mean)", () => {
  it("counts a positive at rank 10 as a miss for R@10 and a hit for R@50", async () => {
    // 20 gallery images at angles 0°, 3°, 6°, …; the query points at 0°, excludes image 0 (its reference),
    // and its target is image 11: images 1..10 are closer, so its 0-based rank is 10.
    const images: Record<string, number[]> = {};
    const gallery = Array.from({ length: 20 }, (_, i) => `s${i}`);
    gallery.forEach((id, i) => (images[id] = [Math.cos((i * 3 * Math.PI) / 180), Math.sin((i * 3 * Math.PI) / 180)]));
    const { net, loader, dispose } = handMade(images, { q: [1, 0], r: [Math.cos(0.1), Math.sin(0.1)] });
    const set: EvalSet = {
      name: "shoes",
      gallery,
      queries: [
        { reference: "s0", text: "q", positives: [11], exclude: [0] },
        { reference: "s19", text: "r", positives: [2], exclude: [19] }, // 0.1 rad ≈ 5.7°: s2 (6°) is the closest
      ],
    };
    const m = await evaluate(net, loader, [set], { ks: [1, 10, 50], batchSize: 7 });
    expect([m["shoes/R@1"], m["shoes/R@10"], m["shoes/R@50"]]).toEqual([50, 50, 100]);
    expect(m["shoes/mean"]).toBeCloseTo(200 / 3, 10);
    dispose();
  });
});

describe("Fashion200k protocol (any image with the target's description is a hit)", () => {
  it("takes the best-ranked of several positives", async () => {
    const { net, loader, dispose } = handMade(
      { x0: [1, 0], x1: [0.95, 0.31], x2: [0.8, 0.6], x3: [0, 1] },
      { "replace red with blue": [1, 0] },
    );
    // x1 and x3 share the target's description; x1 ranks 1 (after x0), x3 ranks 3.
    const set: EvalSet = {
      name: "all",
      gallery: ["x0", "x1", "x2", "x3"],
      queries: [{ reference: "src", text: "replace red with blue", positives: [3, 1], exclude: [] }],
    };
    const m = await evaluate(net, loader, [set], { ks: [1, 2] , batchSize: 4 });
    expect([m["all/R@1"], m["all/R@2"]]).toEqual([0, 100]);
    dispose();
  });
});

describe("retrieval helpers", () => {
  it("topK leaves out the excluded items and sorts by score", async () => {
    const q = tf.tensor2d([[1, 0]]);
    const g = tf.tensor2d([[1, 0], [0, 1], [0.6, 0.8], [-1, 0]]);
    const [top] = await topK(q, g, [{ exclude: [0] }], 2);
    expect(top!.map((t) => t.index)).toEqual([2, 1]);
    expect(top![0]!.score).toBeCloseTo(0.6, 6);
    tf.dispose([q, g]);
  });

  it("recallAt is the percentage of ranks below K", () => {
    expect(recallAt([0, 3, 9, 10, Infinity], 10)).toBe(60);
  });
});
