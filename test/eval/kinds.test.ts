// Per-kind recall and mean routing paths (src/eval/kinds.ts) on a hand-made network whose
// query embeddings and routing paths are given per text, and the shapes queries' kinds.
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { evaluateDetailed } from "../../src/eval/evaluate.js";
import { kindBreakdown, PathSums } from "../../src/eval/kinds.js";
import type { RetrievalNetwork } from "../../src/eval/embed.js";
import type { EvalSet } from "../../src/data/types.js";
import { generateShapes } from "../../src/data/shapes/generate.js";
import { parseText } from "../../src/data/shapes/scene.js";
import { Rng } from "../../src/util/rng.js";

// text → query embedding, layer-1 path (2 senders × 2 receivers), output weights w (2 × 1)
const TEXTS: Record<string, { q: number[]; p0: number[][]; w: number[][] }> = {
  t1: { q: [1, 0], p0: [[0.9, 0.1], [0.3, 0.7]], w: [[0.8], [0.2]] },
  t2: { q: [1, 0], p0: [[0.5, 0.5], [0.1, 0.9]], w: [[0.4], [0.6]] },
  t3: { q: [0, 1], p0: [[1, 0], [0, 1]], w: [[1], [0]] },
  t4: { q: [0.6, 0.8], p0: [[0, 1], [1, 0]], w: [[0], [1]] },
};
const GALLERY: Record<string, number[]> = { g0: [1, 0], g1: [0.8, 0.6], g2: [0.6, 0.8], g3: [0, 1] };

function fakeNetwork() {
  const names = Object.keys(TEXTS);
  const table = tf.tensor2d(names.map((t) => TEXTS[t]!.q));
  const p0 = tf.tensor3d(names.map((t) => TEXTS[t]!.p0));
  const w = tf.tensor3d(names.map((t) => TEXTS[t]!.w));
  const loader = {
    images: async (ids: readonly string[]) => tf.tensor4d(ids.flatMap((id) => GALLERY[id] ?? [0.5, 0.5]), [ids.length, 1, 1, 2]),
    texts: (ts: readonly string[]) => ({
      tokens: tf.tensor2d(ts.map((t) => [names.indexOf(t)]), [ts.length, 1], "int32"),
      mask: tf.ones([ts.length, 1]) as tf.Tensor2D,
    }),
  };
  const net: RetrievalNetwork = {
    encodeTarget: (x) => x.reshape([x.shape[0], 2]),
    encodeQuery: ({ tokens }) => {
      const ids = tokens.reshape([-1]);
      return { query: tf.gather(table, ids) as tf.Tensor2D, paths: [tf.gather(p0, ids) as tf.Tensor3D, tf.gather(w, ids) as tf.Tensor3D] };
    },
  };
  return { net, loader, dispose: () => tf.dispose([table, p0, w]) };
}

const SET: EvalSet = {
  name: "toy",
  gallery: Object.keys(GALLERY),
  queries: [
    { reference: "r", text: "t1", positives: [0], exclude: [], kind: "recolor" }, // rank 0
    { reference: "r", text: "t2", positives: [2], exclude: [], kind: "recolor" }, // g0, g1 score higher: rank 2
    { reference: "r", text: "t3", positives: [3], exclude: [], kind: "move" }, // rank 0
    { reference: "r", text: "t4", positives: [2], exclude: [], kind: "move" }, // rank 0
    { reference: "r", text: "t1", positives: [3], exclude: [] }, // no kind: in the metrics, not the breakdown
  ],
};

describe("per-kind evaluation", () => {
  const fake = fakeNetwork();
  afterAll(() => fake.dispose());

  it("gives each kind its recall and the mean of its queries' routing paths, across batches", async () => {
    const { metrics, kinds } = await evaluateDetailed(fake.net, fake.loader, [SET], { ks: [1, 3], batchSize: 2 });
    expect(metrics["toy/R@1"]).toBeCloseTo(60, 9); // q1, q3, q4 of 5
    expect(Object.keys(kinds.toy!)).toEqual(["recolor", "move"]);
    const { recolor, move } = kinds.toy!;
    expect(recolor!.queries).toBe(2);
    expect(recolor!.recall).toEqual({ "R@1": 50, "R@3": 100 });
    expect(move!.recall).toEqual({ "R@1": 100, "R@3": 100 });
    const close = (got: number[][][], want: number[][][]) => got.flat(2).forEach((v, i) => expect(v).toBeCloseTo(want.flat(2)[i]!, 6));
    expect(recolor!.path.map((l) => l.length)).toEqual([2, 2]);
    close(recolor!.path, [[[0.7, 0.3], [0.2, 0.8]], [[0.6], [0.4]]]);
    close(move!.path, [[[0.5, 0.5], [0.5, 0.5]], [[0.5], [0.5]]]);
  });

  it("computes no breakdown for a set without kinds", async () => {
    const plain = { ...SET, queries: SET.queries.map(({ kind: _kind, ...q }) => q) };
    const { kinds } = await evaluateDetailed(fake.net, fake.loader, [plain], { ks: [1], batchSize: 8 });
    expect(kinds).toEqual({});
  });

  it("leaves the path empty when no paths were collected, and counts infinite ranks as misses", () => {
    const got = kindBreakdown([{ kind: "add" }, { kind: "add" }, {}], [0, Infinity, 0], [1], new PathSums());
    expect(got).toEqual({ add: { queries: 2, recall: { "R@1": 50 }, path: [] } });
  });
});

describe("shapes queries carry their edit kind", () => {
  it("tags every evaluation query with the kind its text names", () => {
    const config = { grid: 3, colors: 4, shapes: 3, train_pairs: 10, test_groups: 2, test_references: 6, test_edits: 10, test_queries: 0 };
    const { evalSet } = generateShapes(new Rng(3), config);
    expect(evalSet.queries).toHaveLength(120);
    for (const q of evalSet.queries) expect(q.kind).toBe(parseText(config, q.text)!.kind);
    expect(new Set(evalSet.queries.map((q) => q.kind)).size).toBeGreaterThanOrEqual(4);
  });
});
