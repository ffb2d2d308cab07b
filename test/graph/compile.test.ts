// The graph compiler: shapes for several recipes, routing distributions, gradients to every
// trainable variable, modules swapped from YAML / --set, a plugin module taking part, and no
// tensor leaks across forward/backward steps.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { compileNetwork, type Network, type NetworkRecipe } from "../../src/graph/compile.js";
import { linear } from "../../src/nn/linear.js";
import { loadRecipe } from "../../src/recipe/index.js";
import { createRegistry } from "../../src/builtins.js";
import { defineModule } from "../../src/registry/define.js";
import { evalFc, expectClose, randn, toArray, trainFc } from "../nn/helpers.js";

const vocabulary = { size: 12, words: Array.from({ length: 12 }, (_, i) => `w${i}`) };
const opts = { vocabulary, filesDir: "." };

const tiny = (fusion: NetworkRecipe["fusion"], encoders?: Partial<NetworkRecipe["encoders"]>): NetworkRecipe => ({
  seed: 0,
  data: { image_size: 16 },
  encoders: {
    image: { type: "small_cnn", dim: 16, channels: [8, 16] },
    text: { type: "lstm", hidden: 12, embedding_dim: 8 },
    ...encoders,
  },
  fusion,
});

const paper = (layers: number, router: object = { type: "msr", hidden: 8 }) =>
  tiny({
    layers,
    modules: [
      { type: "JRM", heads: 2, ffn_mult: 2 },
      { type: "CAM", heads: 2, ffn_mult: 2 },
      { type: "GTM" },
      { type: "RCM" },
    ],
    router: router as { type: string },
  });

function batch(b = 2, size = 16, channels = 3) {
  return {
    reference: randn([b, size, size, channels], 1) as tf.Tensor4D,
    target: randn([b, size, size, channels], 2) as tf.Tensor4D,
    tokens: tf.tensor2d([[1, 2, 3, 4, 0], [5, 6, 0, 0, 0], [7, 8, 9, 0, 0]].slice(0, b), undefined, "int32"),
    mask: tf.tensor2d([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0]].slice(0, b)),
  };
}

/** A loss that depends on everything the trainer uses: q against t. */
const lossOf = (net: Network, input: ReturnType<typeof batch>, fc = trainFc()) => () => {
  const out = net.encodeQuery(input, fc);
  const t = net.encodeTarget(input.target, fc);
  return tf.sum(tf.mul(out.query, t)) as tf.Scalar;
};

/** Names of the trainable variables whose gradient is missing or all zeros. */
function withoutGradient(net: Network, input: ReturnType<typeof batch>): string[] {
  const { value, grads } = tf.variableGrads(lossOf(net, input), net.store.trainable());
  const names = [...net.store.variables].filter(([, v]) => v.trainable).map(([k, v]) => [k, v.name] as const);
  const dead = names.filter(([, id]) => !grads[id] || tf.tidy(() => tf.max(tf.abs(grads[id]!)).dataSync()[0]) === 0);
  value.dispose();
  tf.dispose(grads);
  return dead.map(([k]) => k);
}

describe("compileNetwork shapes", () => {
  it.each([
    ["paper modules, 3 layers, msr", paper(3), 16, [2, 2, 2]],
    ["paper modules, 1 layer, static", paper(1, { type: "static" }), 16, [2]],
    [
      "features + gru, CAM twice, shared, 2 layers",
      tiny(
        { layers: 2, modules: [{ type: "CAM", heads: 4 }, { type: "CAM", heads: 4 }], router: { type: "shared", hidden: 0 } },
        { image: { type: "features", dim: 16, channels: 5 }, text: { type: "gru", hidden: 16, embedding_dim: 8 } },
      ),
      3,
      [2, 2],
    ],
    [
      "bilstm, GTM + RCM, msr product, 2 layers",
      tiny({ layers: 2, modules: [{ type: "GTM" }, { type: "RCM" }], router: { type: "msr", combine: "product", hidden: 4 } }, { text: { type: "bilstm", hidden: 6, embedding_dim: 8 } }),
      16,
      [2, 2],
    ],
  ] as const)("%s", (_label, recipe, size, _layers) => {
    const net = compileNetwork(recipe, createRegistry(), opts);
    const m = recipe.fusion.modules.length;
    const L = recipe.fusion.layers;
    const channels = recipe.encoders.image.type === "features" ? 5 : 3;
    const input = batch(3, size, channels);
    const n = recipe.encoders.image.type === "features" ? size * size : 16; // small_cnn: 16 px → 4×4
    const out = net.encodeQuery(input, evalFc);
    expect(out.query.shape).toEqual([3, 16]);
    expect(out.tokens.shape).toEqual([3, n, 16]);
    expect(out.paths.map((p) => p.shape)).toEqual(Array.from({ length: L }, (_, l) => [3, m, l < L - 1 ? m : 1]));
    expect(out.lastInputs.shape).toEqual([3, m, 16]);
    expect(net.encodeTarget(input.target, evalFc).shape).toEqual([3, 16]);
    expect(net.layers).toEqual(Array.from({ length: L }, () => recipe.fusion.modules.map((t) => t.type)));
    // q is the average of f; hidden rows and the last column are distributions
    expectClose(toArray(out.query), toArray(out.tokens.mean(1)), 1e-6);
    out.paths.forEach((p, l) => {
      const sums = toArray(tf.sum(p, l < L - 1 ? 2 : 1)).flat();
      expectClose(sums, new Array(sums.length).fill(1), 1e-5);
    });
    net.dispose();
  });
});

describe("the routed fusion", () => {
  it("static routing averages: every module of layer 2 gets the mean of layer 1's outputs, f = their mean", () => {
    const recipe = tiny({ layers: 2, modules: [{ type: "GTM" }, { type: "GTM" }, { type: "RCM" }], router: { type: "static" } });
    const net = compileNetwork(recipe, createRegistry(), opts);
    const input = batch();
    const out = net.encodeQuery(input, evalFc);
    expect(new Set(toArray(out.paths[0]!).flat(2))).toEqual(new Set([Math.fround(1 / 3)]));
    // layer 2's RCM passes its input through: the last inputs are all equal to the mean of layer 1's outputs
    const li = toArray(out.lastInputs) as number[][][];
    li.forEach((rows) => rows.forEach((row) => expectClose(row, rows[0], 1e-5)));
    // with X from the encoder, layer 1's mean = (GTM_0(X) + GTM_1(X) + X) / 3
    const x = net.image.encode(input.reference, evalFc);
    const { words, sentence } = net.text.encode(input.tokens, input.mask, evalFc);
    const ys = net.fusion[0]!.modules.map((mod) => mod.forward({ tokens: x, words, wordMask: input.mask, sentence, pooled: x.mean(1) }, evalFc));
    const mean = tf.mean(tf.stack(ys), 0).mean(1);
    expectClose(li.map((rows) => rows[0]), toArray(mean), 1e-5);
    net.dispose();
  });

  it("L = 1: the last inputs are the pooled reference tokens for every module", () => {
    const net = compileNetwork(paper(1), createRegistry(), opts);
    const input = batch();
    const out = net.encodeQuery(input, evalFc);
    const x = toArray(net.image.encode(input.reference, evalFc).mean(1)) as number[][];
    (toArray(out.lastInputs) as number[][][]).forEach((rows, b) => rows.forEach((row) => expectClose(row, x[b], 1e-5)));
    net.dispose();
  });
});

describe("gradients", () => {
  it.each([
    ["msr mean", { type: "msr", hidden: 8 }],
    ["msr product", { type: "msr", combine: "product", hidden: 8 }],
    ["msr gate", { type: "msr", combine: "gate", hidden: 0 }],
    ["shared", { type: "shared", hidden: 8 }],
  ])("reach every trainable variable (encoders, every module of every layer, routers): %s", (_l, router) => {
    const net = compileNetwork(paper(3, router), createRegistry(), opts);
    const names = [...net.store.variables.keys()];
    for (const part of ["image.backbone.", "image.proj.", "text.embedding.", "text.rnn.", "fusion.layers.2.modules.0.", "fusion.layers.1.router.", "fusion.layers.2.router."]) {
      expect(names.some((k) => k.startsWith(part))).toBe(true);
    }
    expect(withoutGradient(net, batch())).toEqual([]);
    net.dispose();
  });
});

describe("memory", () => {
  it("keeps tf.memory().numTensors flat across forward/backward steps with an optimizer", () => {
    const net = compileNetwork(paper(2), createRegistry(), opts);
    const input = batch();
    const optimizer = tf.train.adam(1e-3);
    const step = () => optimizer.minimize(lossOf(net, input), false, net.store.trainable());
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.tidy(() => {
      net.encodeQuery(input, evalFc);
    });
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    const held = net.store.variables.size;
    const all = tf.memory().numTensors;
    net.dispose();
    expect(tf.memory().numTensors).toBe(all - held);
  });
});

describe("recipes change the graph without code changes", () => {
  it("--set fusion.layers=2 and a swapped module in the quickstart recipe", async () => {
    const base = await loadRecipe("recipes/quickstart.yaml");
    const changed = await loadRecipe("recipes/quickstart.yaml", { sets: ["fusion.layers=2", "fusion.modules.2.type=CAM"] });
    const a = compileNetwork(base.recipe, base.registry, { vocabulary, filesDir: "." });
    const b = compileNetwork(changed.recipe, changed.registry, { vocabulary, filesDir: "." });
    expect(a.layers).toEqual([["JRM", "CAM", "GTM", "RCM"], ["JRM", "CAM", "GTM", "RCM"], ["JRM", "CAM", "GTM", "RCM"]]);
    expect(b.layers).toEqual([["JRM", "CAM", "CAM", "RCM"], ["JRM", "CAM", "CAM", "RCM"]]);
    expect([...b.store.variables.keys()].some((k) => k.startsWith("fusion.layers.2."))).toBe(false);
    expect(b.store.variables.has("fusion.layers.1.modules.2.attn.q.weight")).toBe(true);
    const input = batch(2, 32);
    expect(b.encodeQuery(input, evalFc).paths.length).toBe(2);
    a.dispose();
    b.dispose();
  });

  it("the example plugin acme/GatedSum takes part in routing and receives gradients", async () => {
    const loaded = await loadRecipe("examples/plugins/gated-sum.yaml", {
      sets: [
        "encoders.image.type=small_cnn",
        "encoders.image.dim=16",
        "encoders.text.hidden=16",
        "encoders.text.embedding_dim=8",
        "encoders.text.glove=null", // the paper recipe's GloVe file: these 8-d embeddings learn from scratch
        "fusion.modules.0.heads=2",
        "fusion.modules.1.heads=2",
        "fusion.router.hidden=8",
        "fusion.layers=2",
      ],
    });
    const net = compileNetwork(loaded.recipe, loaded.registry, { vocabulary, filesDir: "." });
    expect(net.layers[0]).toEqual(["JRM", "CAM", "GTM", "RCM", "acme/GatedSum"]);
    const input = batch(2, 32);
    const out = net.encodeQuery(input, evalFc);
    expect(out.paths[0]!.shape).toEqual([2, 5, 5]);
    expect(out.paths[1]!.shape).toEqual([2, 5, 1]);
    const dead = withoutGradient(net, input);
    expect(dead).toEqual([]);
    expect([...net.store.variables.keys()]).toContain("fusion.layers.1.modules.4.gate.bias");
    net.dispose();
  });
});

describe("a test-local plugin module", () => {
  // out = x + tanh(linear(s)): a plugin as a user would write it, registered in a fresh registry
  const shift = defineModule({
    name: "test/Shift",
    doc: "Adds a learned function of the sentence to every token.",
    params: z.object({ scale: z.number().default(1).describe("Multiplier of the shift.") }),
    build: (p, { dim, scope }) => {
      const fc = linear(scope.child("fc"), dim, dim);
      return {
        forward: ({ tokens, sentence }) => tf.tidy(() => tf.add(tokens, tf.mul(tf.tanh(fc.apply(sentence)), p.scale).expandDims(1)) as tf.Tensor3D),
      };
    },
  });

  it("is routed to and from, changes the query, and its repeats have their own weights", () => {
    const registry = createRegistry();
    registry.register("module", shift, "test");
    const recipe = tiny({ layers: 2, modules: [{ type: "test/Shift" }, { type: "RCM" }, { type: "test/Shift", scale: 0 }], router: { type: "msr", hidden: 4 } });
    const net = compileNetwork(recipe, registry, opts);
    expect(net.store.variables.has("fusion.layers.1.modules.2.fc.weight")).toBe(true);
    const input = batch();
    const q0 = toArray(net.encodeQuery(input, evalFc).query);
    net.store.variables.get("fusion.layers.0.modules.0.fc.bias")!.assign(tf.fill([16], 3));
    expect(toArray(net.encodeQuery(input, evalFc).query)).not.toEqual(q0);
    // scale 0: the third module gets no gradient through its output, so only the first two sets must be live
    const dead = withoutGradient(net, input);
    expect(dead.every((k) => k.includes(".modules.2."))).toBe(true);
    expect(dead.filter((k) => k.includes(".modules.0."))).toEqual([]);
    net.dispose();
  });
});

describe("edge sizes", () => {
  it("one sample, one module, one word: forward and backward work and shapes hold", () => {
    const recipe = tiny({ layers: 2, modules: [{ type: "CAM", heads: 2 }], router: { type: "msr", hidden: 4 } });
    const net = compileNetwork(recipe, createRegistry(), opts);
    const input = {
      reference: randn([1, 16, 16, 3], 1) as tf.Tensor4D,
      target: randn([1, 16, 16, 3], 2) as tf.Tensor4D,
      tokens: tf.tensor2d([[3]], undefined, "int32"),
      mask: tf.tensor2d([[1]]),
    };
    const out = net.encodeQuery(input, evalFc);
    expect(out.paths.map((p) => p.shape)).toEqual([[1, 1, 1], [1, 1, 1]]);
    expectClose(toArray(out.paths[0]!), [[[1]]], 1e-6);
    // Zero gradients here are the math, not a broken graph: a softmax over one receiver, or
    // attention over one key, is constant (routers; CAM's queries, keys and their norm), and
    // one LSTM step from h = 0 never multiplies weight_hh.
    const constant = /\.router\.|\.attn\.[qk]\.|\.norm1\.|weight_hh/;
    const dead = withoutGradient(net, input);
    expect(dead.filter((k) => !constant.test(k))).toEqual([]);
    expect(dead).toContain("text.rnn.weight_hh_l0");
    net.dispose();
  });
});

describe("errors", () => {
  it("an unknown module names the registered ones", () => {
    const recipe = tiny({ layers: 1, modules: [{ type: "JRN" }], router: { type: "static" } });
    expect(() => compileNetwork(recipe, createRegistry(), opts)).toThrow(/fusion\.modules\.0: unknown module "JRN"; registered: JRM, CAM, GTM, RCM/);
  });

  it("heads that do not divide d name the module and the fix", () => {
    const recipe = tiny({ layers: 1, modules: [{ type: "JRM", heads: 3 }], router: { type: "static" } });
    expect(() => compileNetwork(recipe, createRegistry(), opts)).toThrow(/fusion\.layers\.0\.modules\.0\.attn: the fusion width 16 is not divisible by heads = 3/);
  });

  it("the same seed gives the same parameters, another seed others", () => {
    const a = compileNetwork(paper(1), createRegistry(), opts);
    const b = compileNetwork(paper(1), createRegistry(), opts);
    const c = compileNetwork({ ...paper(1), seed: 1 }, createRegistry(), opts);
    const w = (n: Network) => toArray(n.store.variables.get("fusion.layers.0.modules.0.attn.q.weight")!);
    expect(w(a)).toEqual(w(b));
    expect(w(a)).not.toEqual(w(c));
    [a, b, c].forEach((n) => n.dispose());
  });
});
