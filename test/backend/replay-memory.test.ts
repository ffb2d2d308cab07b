// The memory plan of a replayed program (src/backend/torch/replay/memory-plan.ts, schedule.ts;
// native/src/program*.cc): each slot let go at its last use, the loss readback moved to the end
// of the forward pass and each update right after the backward pass is done with its inputs,
// in-place writes only into what dies in the kernel and nothing else holds; measured with the
// addon's tensor accounting (native/src/memory.cc) against the eager run of the same function.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { useBackend } from "../../src/backend/index.js";
import { createReplayer, type Replayer } from "../../src/backend/replay.js";
import type { TorchBackend } from "../../src/backend/torch/backend.js";
import { lifetimes, releases } from "../../src/backend/torch/replay/memory-plan.js";
import type { ProgramPlan } from "../../src/backend/torch/replay/plan.js";
import type { Capture, RecordedKernel } from "../../src/backend/torch/replay/recorder.js";
import { reorder, schedule } from "../../src/backend/torch/replay/schedule.js";
import { missing } from "../support/requires.js";

tf.env().set("PROD", true);

const kernel = (name: string, inputs: number[], outputs: number[]): RecordedKernel => ({ op: 0, name, inputs, ints: [], floats: [], outputs });
const variable = (name: string) => ({ name }) as unknown as tf.Variable;

/** A capture over `slots` slots with these kernels (the fields the plan does not read left empty). */
function capture(kernels: RecordedKernel[], slots: number, more: Partial<Capture> = {}): Capture {
  return { slots, kernels, uploads: [], result: { slot: -1, at: 0, size: 0 }, outputs: [], inputs: [], states: [], held: [], scalars: new Map(), ...more };
}

describe("the memory plan", () => {
  it("lets each slot go at its last reader, an unread output right after its kernel, and keeps outputs and new state", () => {
    // x (0, declared) → a = Relu(x) (1) → [b (2), unread (4)] = Split(a) → c = Add(b, a) (3) → out = Mul(c, x) (5)
    const c = capture(
      [kernel("Relu", [0], [1]), kernel("SplitV", [1], [2, 4]), kernel("Add", [2, 1], [3]), kernel("Multiply", [3, 0], [5]), kernel("Neg", [6], [7])],
      8,
      { inputs: [0], outputs: [5], states: [{ variable: variable("w"), in: 6, out: 7, madeAt: 4 }] },
    );
    expect(releases(c)).toEqual([[], [4], [1, 2], [0, 3], [6]]);
    const life = new Map(lifetimes(c).map((l) => [l.slot, l]));
    expect(life.get(5)).toEqual({ slot: 5, from: 3, to: Infinity }); // the declared output
    expect(life.get(7)).toEqual({ slot: 7, from: 4, to: Infinity }); // the variable's new value
    expect(life.get(0)).toEqual({ slot: 0, from: -1, to: 3 }); // bound before the first kernel
  });

  it("keeps the packed result until it is read back, even when no kernel reads it", () => {
    const c = capture([kernel("Concat", [0], [1]), kernel("Exp", [0], [2]), kernel("Neg", [2], [3]), kernel("Neg", [3], [4])], 5, {
      result: { slot: 1, at: 3, size: 2 },
      outputs: [],
    });
    expect(releases(c)[3]).toContain(1); // read back before kernel 3 runs, let go with it
    expect(releases(c).slice(0, 3).flat()).not.toContain(1);
    // read after the last kernel: kept to the end
    expect(releases({ ...c, result: { slot: 1, at: 4, size: 2 } }).flat()).not.toContain(1);
  });
});

describe("the replay order of a training program", () => {
  // Forward: f1 = x·W1 (k0), f2 = f1·W2 (k1), the packed losses (k2), a batch-norm statistic S' (k3).
  // Backward: g2 from f1 (k4), gf1 from W2 (k5), g1 from x (k6); the eager step reads the losses here (7).
  // Updates: Adam of W1 (k7), of W2 (k8).
  // slots: x 0, W1 1, W2 2, S 3, m1 4, v1 5, m2 6, v2 7, f1 8, f2 9, packed 10, S' 11, g2 12, gf1 13, g1 14, W1' 15, m1' 16, v1' 17, W2' 18, m2' 19, v2' 20
  const step = capture(
    [
      kernel("BatchMatMul", [0, 1], [8]),
      kernel("BatchMatMul", [8, 2], [9]),
      kernel("Concat", [9], [10]),
      kernel("Add", [3, 8], [11]),
      kernel("BatchMatMul", [8, 9], [12]),
      kernel("BatchMatMul", [2, 9], [13]),
      kernel("BatchMatMul", [0, 13], [14]),
      kernel("SdfnAdamStep", [1, 4, 5, 14], [15, 16, 17]),
      kernel("SdfnAdamStep", [2, 6, 7, 12], [18, 19, 20]),
    ],
    21,
    {
      inputs: [0],
      result: { slot: 10, at: 7, size: 1 },
      states: [
        { variable: variable("W1"), in: 1, out: 15, madeAt: 7 },
        { variable: variable("W2"), in: 2, out: 18, madeAt: 8 },
        { variable: variable("S"), in: 3, out: 11, madeAt: 3 },
      ],
    },
  );

  it("reads the losses back when the forward pass (and its state) is done, and runs each update after the backward pass's last use of its inputs", () => {
    expect(schedule(step)).toEqual({ order: [0, 1, 2, 3, 4, 5, 8, 6, 7], readbackAt: 4 });
    const p: ProgramPlan = { capture: step, bindings: [{ kernel: 8, float: 0, scalar: 0 }], scalarNames: ["lr"], pinned: new Map() };
    const moved = reorder(p, schedule(step));
    expect(moved.capture.kernels.map((k) => k.outputs[0])).toEqual([8, 9, 10, 11, 12, 13, 18, 14, 15]);
    expect(moved.capture.result.at).toBe(4);
    expect(moved.capture.states.map((s) => s.madeAt)).toEqual([8, 6, 3]); // the makers moved with their kernels
    expect(moved.bindings).toEqual([{ kernel: 6, float: 0, scalar: 0 }]);
    // W2's gradient (12) now dies with its update, before the last backward kernel makes W1's
    expect(releases(moved.capture)[6]).toEqual(expect.arrayContaining([2, 6, 7, 12]));
  });

  it("leaves a program alone when its update phase draws random numbers or talks to other ranks, and an inference forward always", () => {
    const withDraw: Capture = { ...step, slots: 22, kernels: [...step.kernels, kernel("SdfnDropoutMask", [], [21])] };
    expect(schedule(withDraw)).toEqual({ order: [...Array(10).keys()], readbackAt: 7 });
    const forward = capture(step.kernels.slice(0, 3), 11, { outputs: [10] });
    expect(schedule(forward)).toEqual({ order: [0, 1, 2], readbackAt: 0 });
  });
});

const noAddon = missing("addon");

describe.skipIf(noAddon)("replayed memory on torch", () => {
  let backend: TorchBackend;
  const warnings: string[] = [];
  const MiB = 2 ** 20;
  const N = 1 << 20; // 4 MiB of float32

  beforeAll(async () => {
    await useBackend("torch");
    backend = tf.backend() as TorchBackend;
  });

  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  const addon = () => backend.native.addon;
  /** Bytes `fn` allocated at its peak beyond what was alive when it started (the addon's accounting). */
  function extraPeak<T>(fn: () => T): { result: T; bytes: number } {
    addon().resetMemoryPeak!();
    const [before] = addon().memoryStats!();
    const result = fn();
    return { result, bytes: addon().memoryStats!()[1] - before };
  }
  const replayer = (): Replayer => {
    const made = createReplayer({ subject: "the test forward", continues: "the test", warn: (m) => warnings.push(m) });
    if ("unavailable" in made) throw new Error(made.unavailable);
    return made;
  };
  const same = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]) === 0;
  /** Records `run` over `inputs` twice (the program), then replays it; the eager run's and the replay's outputs and peaks. */
  function compare(run: () => tf.Tensor[], inputs: tf.Tensor[]) {
    const unit = replayer();
    const record = () => unit.record("test", inputs, () => tf.tidy(run), { outputs: (o) => o, meta: () => undefined });
    const eager = extraPeak(record);
    tf.dispose(record());
    expect(unit.programs()).toHaveLength(1);
    const replays = [0, 1, 2].map(() => extraPeak(() => unit.replay("test", inputs)!.outputs));
    return { unit, eager, replays };
  }

  it("counts the bytes of every tensor on the device", () => {
    const [before] = addon().memoryStats!();
    const t = tf.zeros([N]);
    const [during, , counted] = addon().memoryStats!();
    t.dispose();
    expect(counted).toBe(true);
    expect(during - before).toBeGreaterThanOrEqual(4 * N);
    expect(during - before).toBeLessThan(4 * N + 4096);
    expect(addon().memoryStats!()[0]).toBe(before);
  });

  it("a chain of 16 elementwise kernels holds one intermediate in a replay (written in place), where the eager run holds all 16", () => {
    const x = tf.randomUniform([N], -1, 1, "float32", 5);
    const chain = () => {
      let y = x as tf.Tensor;
      for (let k = 0; k < 8; k++) y = tf.add(tf.mul(y, 0.5), 0.25);
      return [y];
    };
    const { unit, eager, replays } = compare(chain, [x]);
    expect(eager.bytes).toBeGreaterThanOrEqual(16 * 4 * N);
    for (const r of replays) {
      expect(r.bytes, `replay peak ${(r.bytes / MiB).toFixed(1)} MiB`).toBeLessThan(4 * N + MiB); // the first product, then in place
      expect(same(r.result[0]!, eager.result[0]!)).toBe(true);
      tf.dispose(r.result);
    }
    expect(unit.programs()[0]!.stats().overwrites).toBe(3 * 15); // every kernel but the first, which reads the declared input
    tf.dispose([x, ...eager.result]);
    unit.dispose();
    expect(warnings).toEqual([]);
  });

  it("never writes into what outlives the replay: a declared input, a view of it, a variable, a constant", () => {
    const x = tf.randomUniform([64, 64], -1, 1, "float32", 6);
    const v = tf.variable(tf.randomUniform([64, 64], -1, 1, "float32", 7), false, "replay-memory-v");
    const xValues = x.dataSync().slice();
    const vValues = v.dataSync().slice();
    const run = () => {
      const a = tf.relu(x); // the declared input dies here
      const b = tf.exp(tf.reshape(x, [64 * 64])); // a view of the input dies in Exp
      const c = tf.mul(v, 2); // the variable dies in Multiply
      const k = tf.neg(tf.tensor2d(Array.from({ length: 64 * 64 }, (_, i) => i / 4096), [64, 64])); // an upload (a constant) dies in Neg
      return [tf.add(tf.add(a, tf.reshape(b, [64, 64])), tf.add(c, k))];
    };
    const { unit, eager, replays } = compare(run, [x]);
    for (const r of replays) {
      expect(r.result[0]!.dataSync()).toEqual(eager.result[0]!.dataSync());
      tf.dispose(r.result);
    }
    expect(x.dataSync()).toEqual(xValues);
    expect(v.dataSync()).toEqual(vValues);
    // only the kernels on intermediates wrote in place (the two outer Adds and the inner Add of a and b)
    expect(unit.programs()[0]!.stats().overwrites).toBe(3 * 3);
    tf.dispose([x, v, ...eager.result]);
    unit.dispose();
    expect(warnings).toEqual([]);
  });
});
