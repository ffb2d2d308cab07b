// The peers' composition methods against formulas written out in plain JS (their PyTorch parity is
// in test/reference/cases.ts): TIRG's gate and residual, ARTEMIS's score as one dot product,
// the Combiner's dynamic scalar; the global ones give every region token the composed vector.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { artemis } from "../../src/modules/artemis.js";
import { combiner } from "../../src/modules/combiner.js";
import { tirg } from "../../src/modules/tirg.js";
import { normal, ParamStore } from "../../src/nn/scope.js";
import type { FusionModule } from "../../src/registry/kinds.js";
import { addRow, fusionInput, evalFc, expectClose, matmul, randn, sigmoid, softmax, toArray, value, type Mat } from "../nn/helpers.js";

const D = 6;

const input = () => fusionInput(D);

function build(decl: { params: any; build: (p: any, ctx: any) => FusionModule }, params: object) {
  const store = new ParamStore(5);
  const module = decl.build(decl.params.parse(params), { dim: D, scope: store.root().child("m") });
  for (const v of store.variables.values()) v.assign(tf.tensor(normal(0.5)(store.rng, v.shape), v.shape));
  return { store, module };
}

const lin = (store: ParamStore, name: string) => (x: number[]) => addRow(matmul([x], value(store, `${name}.weight`)), value(store, `${name}.bias`))[0]!;
const relu = (x: number[]) => x.map((v) => Math.max(v, 0));
const mlp = (store: ParamStore, name: string) => (x: number[]) => lin(store, `${name}.fc2`)(relu(lin(store, `${name}.fc1`)(x)));
const l2 = (x: number[]) => {
  const n = Math.hypot(...x);
  return x.map((v) => v / n);
};
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const times = (a: number[], b: number[]) => a.map((v, i) => v * b[i]!);

describe("TIRG", () => {
  it("pooled: w_g·σ(MLP_g[r; s]) ⊙ r + w_r·MLP_r[r; s] on the pooled feature, given to every token", () => {
    const { store, module } = build(tirg, {});
    const inp = input();
    const out = toArray(module.forward(inp, evalFc)) as Mat[];
    const [wg] = value(store, "m.gate_weight") as number[];
    const [wr] = value(store, "m.residual_weight") as number[];
    const rs = toArray(inp.pooled) as Mat;
    const ss = toArray(inp.sentence) as Mat;
    for (let b = 0; b < 2; b++) {
      const xs = [...rs[b]!, ...ss[b]!];
      const gate = mlp(store, "m.gate")(xs).map(sigmoid);
      const residual = mlp(store, "m.residual")(xs);
      const expected = rs[b]!.map((r, j) => wg! * gate[j]! * r + wr! * residual[j]!);
      for (const token of out[b]!) expectClose(token, expected, 1e-4);
    }
    store.dispose();
  });

  it("tokens: the same composition of each region token with the sentence", () => {
    const { store, module } = build(tirg, { apply_to: "tokens", hidden_mult: 1 });
    const inp = input();
    const out = toArray(module.forward(inp, evalFc)) as Mat[];
    const [wg] = value(store, "m.gate_weight") as number[];
    const [wr] = value(store, "m.residual_weight") as number[];
    const xs = toArray(inp.tokens) as Mat[];
    const ss = toArray(inp.sentence) as Mat;
    for (let b = 0; b < 2; b++) {
      xs[b]!.forEach((x, n) => {
        const gate = mlp(store, "m.gate")([...x, ...ss[b]!]).map(sigmoid);
        const residual = mlp(store, "m.residual")([...x, ...ss[b]!]);
        expectClose(out[b]![n], x.map((v, j) => wg! * gate[j]! * v + wr! * residual[j]!), 1e-4);
      });
    }
    expect(value(store, "m.gate.fc1.weight")[0].length).toBe(D); // hidden_mult 1
    store.dispose();
  });

  it("starts with TIRG's path weights 1 and 10", () => {
    const store = new ParamStore(1);
    tirg.build(tirg.params.parse({}), { dim: D, scope: store.root().child("m") });
    expect([value(store, "m.gate_weight"), value(store, "m.residual_weight")]).toEqual([[1], [10]]);
    store.dispose();
  });
});

describe("ARTEMIS", () => {
  it("⟨q, t⟩ = EM + IS for any target t: ⟨n(T m̂), A_EM ⊙ t⟩ + ⟨n(A_IS ⊙ r̂), A_IS ⊙ t⟩", () => {
    const { store, module } = build(artemis, {});
    const inp = input();
    const q = (toArray(module.forward(inp, evalFc)) as Mat[]).map((tokens) => tokens[0]!);
    const targets = toArray(randn([2, D], 9)) as Mat;
    const rs = toArray(inp.pooled) as Mat;
    const ss = toArray(inp.sentence) as Mat;
    for (let b = 0; b < 2; b++) {
      const r = l2(rs[b]!);
      const m = l2(ss[b]!);
      const aEM = softmax(mlp(store, "m.attention_em")(m));
      const aIS = softmax(mlp(store, "m.attention_is")(m));
      const t = targets[b]!;
      const em = dot(l2(lin(store, "m.transform")(m)), times(aEM, t));
      const is = dot(l2(times(aIS, r)), times(aIS, t));
      expect(dot(q[b]!, t)).toBeCloseTo(em + is, 5);
    }
    store.dispose();
  });
});

describe("Combiner", () => {
  it("with the learned parts silenced, gives n(λ s + (1 − λ) r), λ = σ(bias of its last layer)", () => {
    const { store, module } = build(combiner, { projection_mult: 1, hidden_mult: 1 });
    for (const name of ["m.output.weight", "m.output.bias", "m.scalar.fc2.weight"]) {
      const v = store.variables.get(name)!;
      v.assign(tf.zerosLike(v));
    }
    store.variables.get("m.scalar.fc2.bias")!.assign(tf.tensor1d([Math.log(0.25 / 0.75)])); // λ = 0.25
    const inp = input();
    const out = toArray(module.forward(inp, evalFc)) as Mat[];
    const rs = toArray(inp.pooled) as Mat;
    const ss = toArray(inp.sentence) as Mat;
    for (let b = 0; b < 2; b++) {
      const expected = l2(ss[b]!.map((s, j) => 0.25 * s + 0.75 * rs[b]![j]!));
      for (const token of out[b]!) expectClose(token, expected, 1e-5);
    }
    store.dispose();
  });
});
