// The distillation cache on the device (src/train/path-cache.ts) and its row update kernel
// (src/backend/rows-update.ts): values by hand on the cpu backend (the composite formula) and
// the torch backend (ATen index_copy), the epoch hand-over, the checkpoint round trip, bad ids.
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";

import { rowsUpdate, useBackend } from "../../src/backend/index.js";
import { PathCache, pathWidth } from "../../src/train/path-cache.js";
import { missing } from "../support/requires.js";

const backends = [{ name: "cpu", skip: false }, { name: "torch", skip: missing("addon") }];

afterAll(async () => {
  await tf.setBackend("cpu");
});

// 2 layers of 2 modules: a record is 2·2 hidden-layer probabilities, then 2 output weights (P = 6).
const shape = { layers: 2, modules: 2 };
const rowsOf = (values: number[][]) => tf.tensor2d(values);

for (const { name, skip } of backends) {
  describe.skipIf(skip)(`the distillation cache on ${name}`, () => {
    it("SdfnRowsUpdate replaces exactly the given rows", async () => {
      await useBackend(name as "cpu" | "torch");
      const table = tf.tensor2d([[0, 1], [2, 3], [4, 5], [6, 7]]);
      const out = rowsUpdate(table, tf.tensor1d([2, 0], "int32"), rowsOf([[-1, -2], [-3, -4]]));
      expect(out.arraySync()).toEqual([[-3, -4], [2, 3], [-1, -2], [6, 7]]);
      expect(table.arraySync()).toEqual([[0, 1], [2, 3], [4, 5], [6, 7]]); // eager: a new tensor
    });

    it("records in one epoch, teaches in the next: the batch's rows, uniform paths and mask 0 where a sample has none", async () => {
      await useBackend(name as "cpu" | "torch");
      expect(pathWidth(shape)).toBe(6);
      const cache = new PathCache(shape, 5);
      expect(cache.hasTeacher).toBe(false);
      const ids = tf.tensor1d([3, 1], "int32");
      cache.record(ids, rowsOf([[0.1, 0.9, 0.2, 0.8, 0.3, 0.7], [0.4, 0.6, 0.5, 0.5, 0.6, 0.4]]));
      expect(cache.recorded([1, 3])).toEqual(Float32Array.from([0.4, 0.6, 0.5, 0.5, 0.6, 0.4, 0.1, 0.9, 0.2, 0.8, 0.3, 0.7]));
      expect(cache.hasTeacher).toBe(false); // recorded this epoch: a teacher from the next on
      cache.advance();
      expect(cache.hasTeacher).toBe(true);
      const { paths, mask } = cache.teacher(tf.tensor1d([3, 0], "int32"));
      expect(paths.map((p) => p.shape)).toEqual([[2, 2, 2], [2, 2, 1]]);
      expect(Array.from(mask.dataSync())).toEqual([1, 0]);
      const near = (got: number[], want: number[]) => got.forEach((v, k) => expect(v).toBeCloseTo(want[k]!, 6));
      near(Array.from(paths[0]!.dataSync()), [0.1, 0.9, 0.2, 0.8, 0.5, 0.5, 0.5, 0.5]);
      near(Array.from(paths[1]!.dataSync()), [0.3, 0.7, 0.5, 0.5]);
      // the new epoch starts without records
      expect(cache.toTensors()["spd.current.ids"]!.data).toEqual(new Int32Array(0));
      cache.dispose();
    });

    it("saves both generations as (ids, values) and restores them; other ranks' rows go in with insert", async () => {
      await useBackend(name as "cpu" | "torch");
      const cache = new PathCache(shape, 4);
      cache.insert([2], Float32Array.from([1, 2, 3, 4, 5, 6]));
      cache.advance();
      cache.record(tf.tensor1d([0], "int32"), rowsOf([[6, 5, 4, 3, 2, 1]]));
      const saved = cache.toTensors();
      expect(Array.from(saved["spd.previous.ids"]!.data)).toEqual([2]);
      expect(Array.from(saved["spd.previous.values"]!.data)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(Array.from(saved["spd.current.ids"]!.data)).toEqual([0]);
      expect(saved["spd.current.values"]!.shape).toEqual([1, 6]);
      const restored = new PathCache(shape, 4);
      restored.load(saved);
      expect(restored.hasTeacher).toBe(true);
      expect(restored.toTensors()).toEqual(saved);
      expect(Array.from(restored.recorded([0]))).toEqual([6, 5, 4, 3, 2, 1]);
      cache.dispose();
      restored.dispose();
    });

    it("refuses a sample id outside the training set, naming it", async () => {
      await useBackend(name as "cpu" | "torch");
      const cache = new PathCache(shape, 3);
      expect(() => cache.recorded([3])).toThrow(/sample id 3 is outside the 3 training pairs/);
      expect(() => cache.insert([-1], new Float32Array(6))).toThrow(/sample id -1/);
      cache.dispose();
    });
  });
}
