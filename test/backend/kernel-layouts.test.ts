// The one kernel layout table (src/backend/torch/kernels/layouts.json): every TypeScript kernel of
// the torch backend has its native twin, compiled against the declared layout, and every native
// call the parity cases make is packed as that layout says.
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";

import { nativeKernelNames, useBackend } from "../../src/backend/index.js";
import { callMismatch, cppHeader, parseLayout } from "../../src/backend/torch/kernels/layout-spec.mjs";
import { kernelLayouts } from "../../src/backend/torch/kernels/layouts.js";
import { TorchNative } from "../../src/backend/torch/native.js";
import { nativeKernelOf } from "../../src/backend/torch/register.js";
import { missing } from "../support/requires.js";
import { parityCases } from "./parity-cases.js";
import { checkParity } from "./parity-harness.js";

const twins = () => [...new Set(nativeKernelNames().flatMap(nativeKernelOf))];

describe("kernel layouts", () => {
  it("declares every native kernel a TypeScript kernel calls", () => {
    expect(twins().filter((n) => !kernelLayouts().has(n))).toEqual([]);
  });

  it("sizes each int array by an earlier plain int", () => {
    const bad = [...kernelLayouts().values()].flatMap((l) =>
      l.ints.flatMap((p, k) => {
        const sizedBy = l.ints.slice(0, k).find((q) => q.name === p.length?.of && !q.length);
        return p.length && !sizedBy ? [`${l.kernel}: ${p.name}[${p.length.of}]`] : [];
      }),
    );
    expect(bad).toEqual([]);
  });

  it("reports calls that do not fit", () => {
    const slice = parseLayout("StridedSlice", "x | rank bss[3*rank] finalRank finalShape[finalRank]");
    // rank 2: 6 begin/stride/size ints, final rank 1, final shape [6]
    expect(callMismatch(slice, 1, [2, 0, 1, 3, 0, 1, 2, 1, 6], 0)).toBeUndefined();
    expect(callMismatch(slice, 1, [2, 0, 1, 3, 0, 1, 2, 1], 0)).toMatch(/8 ints .* \(expected 9\)/);
    const conv = parseLayout("Conv2D", "x filter bias? prelu? | act | alpha");
    expect(callMismatch(conv, 4, [1], 1)).toBeUndefined();
    expect(callMismatch(conv, 2, [1], 1)).toMatch(/2 inputs/);
    expect(callMismatch(conv, 4, [1], 0)).toMatch(/0 floats/);
    const addN = parseLayout("AddN", "...xs");
    expect(callMismatch(addN, 3, [], 0)).toBeUndefined();
    expect(callMismatch(addN, 0, [], 0)).toMatch(/0 inputs/);
  });

  it("generates C++ constants up to the first array", () => {
    const header = cppHeader([parseLayout("Slice", "x | rank begin[rank] size[rank]"), parseLayout("Conv2D", "x filter bias? | a b c | alpha")]);
    expect(header).toContain("struct Slice { enum : int { in_x = 0, i_rank = 0, i_begin = 1 }; };");
    expect(header).toContain("struct Conv2D { enum : int { in_x = 0, in_filter = 1, in_bias = 2, i_a = 0, i_b = 1, i_c = 2, f_alpha = 0 }; };");
    expect(header).toContain('{"Slice", "x | rank begin[rank] size[rank] | "}');
  });
});

const noAddon = missing("addon");

describe.skipIf(noAddon)("kernel layouts in the native addon", () => {
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it("has a twin for every TypeScript kernel, compiled against the declared layout", async () => {
    await useBackend("torch");
    const native = (tf.backend() as unknown as { native: TorchNative }).native;
    const ops = new Set(native.kernels());
    expect(twins().filter((n) => !ops.has(n))).toEqual([]);
    const differing = native.kernels().filter((n) => native.layout(n) !== kernelLayouts().get(n)?.text);
    expect(differing).toEqual([]);
  });

  it("is called as the layout says by every parity case", async () => {
    await useBackend("torch");
    const mismatches = new Set<string>();
    const checked = new Set<string>();
    const run = TorchNative.prototype.run;
    TorchNative.prototype.run = function (this: TorchNative, code, handles, ints = [], floats = []) {
      const kernel = this.kernels()[code];
      const layout = kernelLayouts().get(kernel);
      const why = layout ? callMismatch(layout, handles.length, ints, floats.length) : `${kernel}: not in layouts.json`;
      if (why) mismatches.add(why);
      checked.add(kernel);
      return run.call(this, code, handles, ints, floats);
    };
    try {
      for (const [k, c] of parityCases.entries()) await checkParity(c, 1000 + k);
    } finally {
      TorchNative.prototype.run = run;
    }
    expect([...mismatches]).toEqual([]);
    // the parity cases reach every kernel of native/src/ops/*.cc that a TypeScript kernel calls
    const families = new Set(["elementwise", "reduce", "layout", "nn", "sdfn"]);
    expect(twins().filter((n) => families.has(kernelLayouts().get(n)!.family) && !checked.has(n))).toEqual([]);
  }, 300_000);
});
