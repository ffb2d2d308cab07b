// Example retrievals for the report: hits (target in the top K) and misses chosen in query
// order, their top K with scores and the target marked, the rank, the routing paths; and
// the thumbnails (un-normalised pixels back as an image).
import * as tf from "@tensorflow/tfjs";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import type { EvalSet } from "../../src/data/types.js";
import { retrievalExamples } from "../../src/eval/gallery.js";
import { encodeThumbnail, toBytes } from "../../src/eval/thumbnails.js";
import { handMade } from "./fakes.js";

tf.env().set("IS_TEST", true);

// Gallery on the unit circle at 0°, 20°, 40°, …: a query at angle θ ranks them by |θ − angle|.
const angles = [0, 20, 40, 60, 80, 100, 120];
const images = Object.fromEntries(angles.map((a, i) => [`g${i}`, [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180)]]));
const at = (deg: number) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
const texts = { near0: at(1), near120: at(119), near50: at(51) };

describe("retrievalExamples", () => {
  it("picks hits and misses in query order, with the top K, the target marked and its rank", async () => {
    const { net, loader, dispose } = handMade(images, texts);
    const paths = [tf.tensor3d([[[0.5, 0.5], [0.25, 0.75]]]), tf.tensor3d([[[0.4], [0.6]]])];
    const withPaths = {
      encodeTarget: net.encodeTarget,
      encodeQuery: (input: Parameters<typeof net.encodeQuery>[0], fc: Parameters<typeof net.encodeQuery>[1]) => {
        const b = input.tokens.shape[0];
        const { query } = net.encodeQuery(input, fc);
        return { query, tokens: tf.zeros([b, 1, 2]) as tf.Tensor3D, lastInputs: tf.zeros([b, 2, 2]) as tf.Tensor3D, paths: paths.map((p) => tf.tile(p, [b, 1, 1]) as tf.Tensor3D) };
      },
    };
    const gallery = Object.keys(images);
    const set: EvalSet = {
      name: "toy",
      gallery,
      queries: [
        { reference: "g1", text: "near0", positives: [6], exclude: [1] }, // target g6 (120°) is last: a miss
        { reference: "g3", text: "near120", positives: [6], exclude: [3] }, // target first: a hit
        { reference: "g0", text: "near50", positives: [2], exclude: [0] }, // 40° is second after 60°: a hit at rank 1
        { reference: "g2", text: "near0", positives: [5], exclude: [2] }, // 100° after 0, 20, 60, 80 (40 excluded): rank 4, a hit for K = 5
      ],
    };
    const examples = await retrievalExamples(withPaths as never, loader, set, { k: 3, hits: 1, misses: 5, scan: 4, batchSize: 2 });
    expect(examples.map((e) => e.query)).toEqual([1, 0, 3]); // one hit (the first), then every miss
    const [hit, miss, late] = examples;
    expect(hit!.top.map((t) => t.id)).toEqual(["g6", "g5", "g4"]);
    expect(hit!.top.map((t) => t.hit)).toEqual([true, false, false]);
    expect(hit!.top[0]!.score).toBeCloseTo(Math.cos((1 * Math.PI) / 180), 5);
    expect(hit!.rank).toBe(0);
    expect(hit!.targets).toEqual(["g6"]);
    expect(miss!.top.map((t) => t.id)).toEqual(["g0", "g2", "g3"]); // g1 (the reference) excluded
    expect(miss!.rank).toBe(5);
    expect(late!.rank).toBe(4);
    expect(miss!.paths).toEqual([[[0.5, 0.5], [0.25, 0.75]], [[0.4], [0.6]]].map((l) => l.map((r) => r.map(Math.fround))));
    dispose();
    tf.dispose(paths);
  });
});

describe("thumbnails", () => {
  it("un-normalises pixels: byte = (x·std + mean)·255, clamped", () => {
    const bytes = toBytes(Float32Array.from([0, 1, -10, 2.2489, 0, 0]), [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]);
    expect([...bytes]).toEqual([128, 191, 0, 255, 128, 128]); // 0.5·255 = 127.5 → 128; 0.75·255 = 191.25; −2 → 0
  });

  it("a small image becomes a PNG data URI, scaled up without blur", async () => {
    const rgb = Buffer.from([255, 0, 0, 0, 0, 255, 0, 255, 0, 255, 255, 255]); // 2×2: red, blue / green, white
    const uri = await encodeThumbnail(rgb, 2, 2, 8);
    expect(uri).toMatch(/^data:image\/png;base64,/);
    const { data, info } = await sharp(Buffer.from(uri.split(",")[1]!, "base64")).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([8, 8, 3]);
    expect([...data.subarray(0, 3)]).toEqual([255, 0, 0]); // top-left stays pure red
    expect([...data.subarray((7 * 8 + 7) * 3, (7 * 8 + 7) * 3 + 3)]).toEqual([255, 255, 255]); // bottom-right white
  });
});
