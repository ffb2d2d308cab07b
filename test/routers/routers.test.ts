// Routers: distributions sum to 1 (rows over receivers; the last layer over senders), static
// is uniform, msr combines its image and text routers by mean / product / gate exactly as
// a per-sender plain-JS MLP says, shared routes on concat(pooled x, s); both pool the region
// tokens by the same `pool` param and default (Table 3's SR → MSR isolates the modality split).
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/index.js";
import { normal, ParamStore } from "../../src/nn/scope.js";
import type { Router } from "../../src/registry/kinds.js";
import { createRegistry } from "../../src/builtins.js";
import { msr } from "../../src/routers/msr.js";
import { shared } from "../../src/routers/shared.js";
import { staticRouter } from "../../src/routers/static.js";
import { addRow, evalFc, expectClose, matmul, randn, softmax, toArray, value, type Mat } from "../nn/helpers.js";

const D = 6;
const M = 3;
const B = 2;

function make(decl: { params: any; build: (p: any, ctx: any) => Router }, params: object, final: boolean) {
  const store = new ParamStore(11);
  const router = decl.build(decl.params.parse(params), {
    dim: D,
    senders: M,
    receivers: final ? 1 : M,
    final,
    scope: store.root().child("r"),
  });
  for (const v of store.variables.values()) v.assign(tf.tensor(normal(0.7)(store.rng, v.shape), v.shape));
  return { store, router };
}

const pooled = () => randn([B, M, D], 1) as tf.Tensor3D;
const sentence = () => randn([B, D], 2) as tf.Tensor2D;
const N = 4;
const T = 3;
/** Module outputs (M, B, N, d) and words (B, T, d); sample 1 has one padded word. */
const regions = () => ({
  tokens: randn([M, B, N, D], 3) as tf.Tensor4D,
  words: randn([B, T, D], 4) as tf.Tensor3D,
  mask: tf.tensor2d([[1, 1, 1], [1, 1, 0]]),
});

/** softmax_n(tokens_n · q / √d) pooling of rows `tokens` (only those with mask 1). */
function poolBy(query: number[], tokens: number[][], mask?: number[]): number[] {
  const kept = tokens.filter((_, n) => !mask || mask[n] === 1);
  const w = softmax(kept.map((t) => t.reduce((a, v, k) => a + v * query[k]!, 0) / Math.sqrt(D)));
  return query.map((_, k) => kept.reduce((a, t, n) => a + w[n]! * t[k]!, 0));
}

/** Logits of sender i's own MLP `{prefix}.{i}.0` → ReLU → `{prefix}.{i}.2` on one input row. */
function senderLogits(store: ParamStore, prefix: string, i: number, x: number[]): number[] {
  const layer = (k: number, h: Mat) => addRow(matmul(h, value(store, `${prefix}.${i}.${k}.weight`)), value(store, `${prefix}.${i}.${k}.bias`));
  return layer(2, layer(0, [x]).map((r) => r.map((v) => Math.max(v, 0))))[0]!;
}

/** Logits (B, M, R) → distributions: rows over R, or (final) over the M senders. */
function normalise(logits: number[][][], final: boolean): number[][][] {
  if (!final) return logits.map((rows) => rows.map(softmax));
  return logits.map((rows) => softmax(rows.map((r) => r[0]!)).map((p) => [p]));
}

function msrParts(store: ParamStore, x: number[][][], s: number[][]) {
  const zi = x.map((rows) => rows.map((row, i) => senderLogits(store, "r.image", i, row)));
  const zt = s.map((row) => Array.from({ length: M }, (_, i) => senderLogits(store, "r.text", i, row)));
  return { zi, zt };
}

describe.each([false, true])("routers (final layer: %s)", (final) => {
  const axisSums = (p: tf.Tensor3D) => toArray(tf.sum(p, final ? 1 : 2)).flat();

  it.each(createRegistry().list("router").map((d) => [d.name, d] as const))("%s gives distributions that sum to 1", (_n, decl) => {
    const { store, router } = make(decl, {}, final);
    const p = router.route(pooled(), sentence(), evalFc, regions());
    expect(p.shape).toEqual([B, M, final ? 1 : M]);
    expectClose(axisSums(p), new Array(final ? B : B * M).fill(1), 1e-5);
    expect(Math.min(...(toArray(p).flat(2) as number[]))).toBeGreaterThanOrEqual(0);
    store.dispose();
  });

  it("static is uniform and has no parameters", () => {
    const { store, router } = make(staticRouter, {}, final);
    const p = toArray(router.route(pooled(), sentence(), evalFc)).flat(2) as number[];
    expect(new Set(p)).toEqual(new Set([Math.fround(1 / M)])); // 1/R = 1/M in hidden layers, 1/M in the last
    expect(store.variables.size).toBe(0);
    store.dispose();
  });

  it("msr mean = ½ (image softmax + text softmax), each sender through its own MLPs", () => {
    const { store, router } = make(msr, { combine: "mean", hidden: 4, pool: "mean" }, final);
    const x = pooled();
    const s = sentence();
    const { zi, zt } = msrParts(store, toArray(x), toArray(s));
    const [pi, pt] = [normalise(zi, final), normalise(zt, final)];
    const expected = pi.map((rows, b) => rows.map((r, i) => r.map((v, j) => (v + pt[b]![i]![j]!) / 2)));
    expectClose(toArray(router.route(x, s, evalFc)), expected, 1e-5);
    store.dispose();
  });

  it("msr product = image ⊙ text, renormalised", () => {
    const { store, router } = make(msr, { combine: "product", hidden: 4, pool: "mean" }, final);
    const x = pooled();
    const s = sentence();
    const { zi, zt } = msrParts(store, toArray(x), toArray(s));
    const [pi, pt] = [normalise(zi, final), normalise(zt, final)];
    const prod = pi.map((rows, b) => rows.map((r, i) => r.map((v, j) => v * pt[b]![i]![j]!)));
    const expected = prod.map((rows) => {
      if (!final) return rows.map((r) => r.map((v) => v / r.reduce((a, c) => a + c, 0)));
      const total = rows.reduce((a, r) => a + r[0]!, 0);
      return rows.map((r) => [r[0]! / total]);
    });
    expectClose(toArray(router.route(x, s, evalFc)), expected, 1e-5);
    store.dispose();
  });

  it("msr gate mixes by σ(gate_i) per sender (the last layer renormalised over senders)", () => {
    const { store, router } = make(msr, { combine: "gate", hidden: 4, pool: "mean" }, final);
    store.variables.get("r.gate")!.assign(tf.tensor1d([2, -1, 0]));
    const x = pooled();
    const s = sentence();
    const { zi, zt } = msrParts(store, toArray(x), toArray(s));
    const [pi, pt] = [normalise(zi, final), normalise(zt, final)];
    const g = [2, -1, 0].map((v) => 1 / (1 + Math.exp(-v)));
    let expected = pi.map((rows, b) => rows.map((r, i) => r.map((v, j) => g[i]! * v + (1 - g[i]!) * pt[b]![i]![j]!)));
    if (final) expected = expected.map((rows) => rows.map((r) => [r[0]! / rows.reduce((a, q) => a + q[0]!, 0)]));
    expectClose(toArray(router.route(x, s, evalFc)), expected, 1e-5);
    store.dispose();
  });

  it.each([false, true])("msr attention: image router on its tokens pooled by a learned query, text router on s (words too: %s)", (words) => {
    const { store, router } = make(msr, { combine: "mean", hidden: 4, words }, final);
    const s = sentence();
    const r = regions();
    const [tok, ss, ws, mask] = [toArray(r.tokens), toArray(s), toArray(r.words), toArray(r.mask)] as [number[][][][], number[][], number[][][], number[][]];
    const query = (name: string) => toArray(store.variables.get(`r.${name}`)!) as number[][];
    const zi = ss.map((_, b) => tok.map((perModule, i) => senderLogits(store, "r.image", i, poolBy(query("image_query")[i]!, perModule[b]!))));
    const textIn = (b: number, i: number) => (words ? [...ss[b]!, ...poolBy(query("text_query")[i]!, ws[b]!, mask[b])] : ss[b]!);
    const zt = ss.map((_, b) => Array.from({ length: M }, (_, i) => senderLogits(store, "r.text", i, textIn(b, i))));
    const [pi, pt] = [normalise(zi, final), normalise(zt, final)];
    const expected = pi.map((rows, b) => rows.map((row, i) => row.map((v, j) => (v + pt[b]![i]![j]!) / 2)));
    // the pooled input is not the mean: the learned queries (std 0.7 here) weigh the tokens
    expectClose(toArray(router.route(pooled(), s, evalFc, r)), expected, 1e-5);
    expect(store.variables.has("r.text_query")).toBe(words);
    store.dispose();
  });

  it("msr attention without the region tokens says so", () => {
    const { store, router } = make(msr, {}, final);
    expect(() => router.route(pooled(), sentence(), evalFc)).toThrow(/reads the region tokens/);
    store.dispose();
  });

  it("shared (pool: attention, the default) routes each sender on concat(its tokens pooled by its learned query, s)", () => {
    const { store, router } = make(shared, { hidden: 5 }, final);
    const s = sentence();
    const r = regions();
    const [tok, ss] = [toArray(r.tokens), toArray(s)] as [number[][][][], number[][]];
    const query = toArray(store.variables.get("r.image_query")!) as number[][];
    const logits = ss.map((row, b) => tok.map((perModule, i) => senderLogits(store, "r.mlps", i, [...poolBy(query[i]!, perModule[b]!), ...row])));
    // the queries are random here (std 0.7): the pooled input is not the mean
    expectClose(toArray(router.route(pooled(), s, evalFc, r)), normalise(logits, final), 1e-5);
    store.dispose();
  });

  it("shared with pool: mean routes each sender on concat(its mean-pooled tokens, s)", () => {
    const { store, router } = make(shared, { hidden: 5, pool: "mean" }, final);
    const x = pooled();
    const s = sentence();
    const xs = toArray(x) as number[][][];
    const ss = toArray(s) as number[][];
    const logits = xs.map((rows, b) => rows.map((row, i) => senderLogits(store, "r.mlps", i, [...row, ...ss[b]!])));
    expectClose(toArray(router.route(x, s, evalFc)), normalise(logits, final), 1e-5);
    store.dispose();
  });
});

describe("router pooling (pool)", () => {
  it("msr and shared default to the same pool, from one definition", () => {
    expect(msr.params.parse({}).pool).toBe("attention");
    expect(shared.params.parse({}).pool).toBe("attention");
    expect(msr.params.shape.pool).toBe(shared.params.shape.pool);
  });

  it.each([
    ["msr", msr],
    ["shared", shared],
  ] as const)("a fresh %s attention router pools by the mean (queries start at 0), so it equals the pool: mean one with the same MLPs", (_name, decl) => {
    const store = new ParamStore(5);
    const build = (pool: string, name: string) =>
      (decl as typeof msr).build((decl as typeof msr).params.parse({ pool, hidden: 3 }), { dim: D, senders: M, receivers: M, final: false, scope: store.root().child(name) });
    const attention = build("attention", "a");
    const mean = build("mean", "b");
    for (const [name, v] of store.variables) if (name.startsWith("a.") && !name.endsWith("_query")) store.variables.get(`b.${name.slice(2)}`)!.assign(v);
    const r = regions();
    const pooledMean = r.tokens.mean(2).transpose([1, 0, 2]) as tf.Tensor3D; // (B, M, d)
    const s = sentence();
    expectClose(toArray(attention.route(pooledMean, s, evalFc, r)), toArray(mean.route(pooledMean, s, evalFc)), 1e-5);
    store.dispose();
  });

  it("an older recipe's msr `architecture: mlp | attention` loads as `pool: mean | attention`, where it stood", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sdfn-pool-"));
    const file = join(dir, "old.yaml");
    const quickstart = join(import.meta.dirname, "../../recipes/quickstart.yaml");
    writeFileSync(file, `extends: ${quickstart}\nfusion:\n  router: { type: msr, hidden: 16, architecture: mlp }\n`);
    expect((await loadRecipe(file)).recipe.fusion.router).toEqual({ type: "msr", combine: "mean", hidden: 16, pool: "mean", words: false });
    writeFileSync(file, `extends: ${quickstart}\nfusion:\n  router: { type: msr, architecture: sideways }\n`);
    const err = (await loadRecipe(file).catch((e: Error) => e)) as Error;
    // at the old value, in the old file: "  router: { type: msr, architecture: " is 37 characters
    expect(err.message).toBe(`${file}:3:38: error: fusion.router.pool: expected one of attention, mean; got "sideways"`);
    rmSync(dir, { recursive: true, force: true });
  });

  it("msr words: true reads [s; pooled words] whichever way the image router pools", () => {
    const store = new ParamStore(5);
    const ctx = { dim: D, senders: M, receivers: M, final: false, scope: store.root().child("r") };
    const router = msr.build(msr.params.parse({ pool: "mean", words: true, hidden: 3 }), ctx);
    expect(store.variables.get("r.text.0.0.weight")!.shape).toEqual([2 * D, 3]);
    expect(store.variables.has("r.image_query")).toBe(false);
    expect(() => router.route(pooled(), sentence(), evalFc)).toThrow(/words: true reads the words/);
    store.dispose();
  });
});

describe("router MLP with hidden = 0", () => {
  it("is one linear layer per sender ({i}.0 only)", () => {
    const { store } = make(shared, { hidden: 0 }, false);
    expect([...store.variables.keys()].filter((k) => k.startsWith("r.mlps.0."))).toEqual(["r.mlps.0.0.weight", "r.mlps.0.0.bias"]);
    store.dispose();
  });
});
