// JRM, CAM, GTM, RCM against plain-JS references on small inputs, and one suite driven by
// the registry: every built-in module from its defaults runs forward and backward.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { cam } from "../../src/modules/cam.js";
import { gtm } from "../../src/modules/gtm.js";
import { createRegistry } from "../../src/builtins.js";
import { jrm } from "../../src/modules/jrm.js";
import { rcm } from "../../src/modules/rcm.js";
import { normal, ParamStore } from "../../src/nn/scope.js";
import type { FusionModule } from "../../src/registry/kinds.js";
import {
  addRow,
  fusionInput,
  evalFc,
  expectClose,
  layerNormRows,
  matmul,
  naiveAttention,
  randn,
  toArray,
  trainFc,
  value,
  type Mat,
} from "../nn/helpers.js";

const D = 8;

const input = () => fusionInput(D);

/** Fills every variable with N(0, 0.5²) so biases and norms are exercised too. */
function scramble(store: ParamStore): void {
  for (const v of store.variables.values()) v.assign(tf.tensor(normal(0.5)(store.rng, v.shape), v.shape));
}

function build(decl: { params: any; build: (p: any, ctx: any) => FusionModule }, params: object) {
  const store = new ParamStore(5);
  const module = decl.build(decl.params.parse(params), { dim: D, scope: store.root().child("m") });
  scramble(store);
  return { store, module };
}

const lin = (store: ParamStore, name: string) => (x: Mat) => addRow(matmul(x, value(store, `${name}.weight`)), value(store, `${name}.bias`));
const ln = (store: ParamStore, name: string) => (x: Mat) => layerNormRows(x, value(store, `${name}.weight`), value(store, `${name}.bias`));
const relu = (x: Mat) => x.map((r) => r.map((v) => Math.max(v, 0)));
const add = (a: Mat, b: Mat) => a.map((r, i) => r.map((v, j) => v + b[i]![j]!));
const ffn = (store: ParamStore, name: string) => (x: Mat) => lin(store, `${name}.fc2`)(relu(lin(store, `${name}.fc1`)(x)));

describe("JRM", () => {
  it("= LN(h + FFN(h)), h = LN(z + MHA(z)), z = linear([x; s]), keeping the image tokens", () => {
    const { store, module } = build(jrm, { heads: 2, ffn_mult: 2 });
    const inp = input();
    const out = toArray(module.forward(inp, evalFc)) as Mat[];
    const xs = toArray(inp.tokens) as Mat[];
    const ss = toArray(inp.sentence) as number[][];
    for (let b = 0; b < 2; b++) {
      const z = lin(store, "m.input")([...xs[b]!, ss[b]!]);
      const h = ln(store, "m.norm1")(add(z, naiveAttention(store, "m.attn", z, z, [1, 1, 1, 1], 2)));
      const y = ln(store, "m.norm2")(add(h, ffn(store, "m.ffn")(h)));
      expectClose(out[b], y.slice(0, 3), 1e-4);
    }
    expect(value(store, "m.ffn.fc1.weight")[0].length).toBe(2 * D);
    store.dispose();
  });
});

describe("CAM", () => {
  it("= h + FFN(LN(h)), h = x + MHA(LN(x), W, mask)", () => {
    const { store, module } = build(cam, { heads: 2 });
    const inp = input();
    const out = toArray(module.forward(inp, evalFc)) as Mat[];
    const xs = toArray(inp.tokens) as Mat[];
    const ws = toArray(inp.words) as Mat[];
    const ms = toArray(inp.wordMask) as number[][];
    for (let b = 0; b < 2; b++) {
      const h = add(xs[b]!, naiveAttention(store, "m.attn", ln(store, "m.norm1")(xs[b]!), ws[b]!, ms[b]!, 2));
      expectClose(out[b], add(h, ffn(store, "m.ffn")(ln(store, "m.norm2")(h))), 1e-4);
    }
    store.dispose();
  });

  it("does not look at padded words", () => {
    const { store, module } = build(cam, { heads: 2 });
    const inp = input();
    const a = toArray(module.forward(inp, evalFc));
    const pad = tf.sub(1, inp.wordMask).expandDims(2);
    const words = tf.add(inp.words, tf.mul(randn([2, 4, D], 7), tf.mul(pad, 100))) as tf.Tensor3D;
    expectClose(toArray(module.forward({ ...inp, words }, evalFc)), a, 1e-5);
    store.dispose();
  });
});

describe("GTM", () => {
  it("= γ(s) ⊙ x + β(s) with γ, β linear in s (FiLM by hand)", () => {
    const { store, module } = build(gtm, {});
    const inp = input();
    const out = toArray(module.forward(inp, evalFc)) as Mat[];
    const xs = toArray(inp.tokens) as Mat[];
    const ss = toArray(inp.sentence) as number[][];
    for (let b = 0; b < 2; b++) {
      const g = lin(store, "m.gamma")([ss[b]!])[0]!;
      const be = lin(store, "m.beta")([ss[b]!])[0]!;
      expectClose(out[b], xs[b]!.map((row) => row.map((v, j) => g[j]! * v + be[j]!)), 1e-5);
    }
    store.dispose();
  });

  it("starts near the identity (γ bias 1, β bias 0)", () => {
    const store = new ParamStore(5);
    gtm.build({}, { dim: D, scope: store.root().child("m") });
    expect(value(store, "m.gamma.bias")).toEqual(new Array(D).fill(1));
    expect(value(store, "m.beta.bias")).toEqual(new Array(D).fill(0));
    store.dispose();
  });
});

describe("RCM", () => {
  it("returns the input tokens unchanged and has no parameters", () => {
    const { store, module } = build(rcm, {});
    const inp = input();
    expect(toArray(module.forward(inp, evalFc))).toEqual(toArray(inp.tokens));
    expect(store.variables.size).toBe(0);
    store.dispose();
  });
});

// Every registered module (plugins and new built-ins included), from the registry.
describe.each(createRegistry().list("module").map((d) => [d.name, d] as const))("built-in module %s from its defaults", (_name, decl) => {
  it("maps (B, N, d) → (B, N, d), every parameter gets a gradient, no tensor leaks", () => {
    const store = new ParamStore(1);
    const dim = 16; // the default 8 heads divide it
    const module = decl.build(decl.params.parse({}), { dim, scope: store.root().child("m") }) as FusionModule;
    const inp = {
      tokens: randn([2, 5, dim], 1) as tf.Tensor3D,
      words: randn([2, 3, dim], 2) as tf.Tensor3D,
      wordMask: tf.tensor2d([
        [1, 1, 1],
        [1, 0, 0],
      ]),
      sentence: randn([2, dim], 3) as tf.Tensor2D,
      pooled: randn([2, dim], 4) as tf.Tensor2D,
    };
    const step = () => {
      const { value: loss, grads } = tf.variableGrads(() => {
        const y = module.forward(inp, trainFc());
        expect(y.shape).toEqual([2, 5, dim]);
        return tf.sum(tf.square(y)) as tf.Scalar;
      }, store.trainable().length ? store.trainable() : undefined);
      const zero = Object.entries(grads).filter(([, g]) => tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]) === 0);
      loss.dispose();
      tf.dispose(grads);
      return { names: Object.keys(grads), zero };
    };
    if (store.trainable().length === 0) {
      expect(toArray(module.forward(inp, evalFc))).toEqual(toArray(inp.tokens));
    } else {
      const first = step();
      expect(first.names.length).toBe(store.trainable().length);
      expect(first.zero).toEqual([]);
      const before = tf.memory().numTensors;
      step();
      expect(tf.memory().numTensors).toBe(before);
    }
    expect(decl.params.parse(decl.params.parse({}))).toEqual(decl.params.parse({}));
    store.dispose();
  });
});
