import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatedSum } from "../../examples/plugins/gated-sum.js";
import { ParamStore } from "../../src/nn/scope.js";
import { loadRecipe, loadRegistry, RecipeError } from "../../src/recipe/index.js";
import { TINY, tinyRegistry, writeTree } from "./helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const EXAMPLE = path.join(ROOT, "examples/plugins/gated-sum.ts");
const fixture = (name: string) => path.join(ROOT, "test/recipe/fixtures/plugins", name);
const fc = { training: false, seed: () => 0 };

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

describe("acme/GatedSum (examples/plugins/gated-sum.ts)", () => {
  const store = new ParamStore(1);
  afterAll(() => store.dispose());

  it("computes g ⊙ x + (1 − g) ⊙ p by hand for d = 2", () => {
    const module = gatedSum.build({ gate: "channel", gate_bias: 1 }, { dim: 2, scope: store.root().child("gs") });
    const v = (name: string) => store.variables.get(`gs.${name}`)!;
    v("proj.weight").assign(tf.tensor2d([[1, 0], [0, 2]])); // p = s·W_p + b_p
    v("proj.bias").assign(tf.tensor1d([0.5, 0]));
    v("gate.token_weight").assign(tf.tensor2d([[1, 0], [0, 0]]));
    v("gate.sentence_weight").assign(tf.tensor2d([[0, 0], [0, 1]]));
    v("gate.bias").assign(tf.tensor1d([0, -1]));
    const x = tf.tensor3d([[[2, -1]]]); // (B=1, N=1, d=2)
    const s = tf.tensor2d([[1, 1]]);
    const out = module.forward({ tokens: x, sentence: s, words: tf.zeros([1, 1, 2]), wordMask: tf.ones([1, 1]), pooled: x.mean(1) }, fc);
    // p = [1.5, 2]; gate logits = x·W_x + p·W_s + b = [2, 0] + [0, 2] + [0, -1] = [2, 1]
    const sig = (z: number) => 1 / (1 + Math.exp(-z));
    const [g0, g1] = [sig(2), sig(1)];
    const expected = [g0 * 2 + (1 - g0) * 1.5, g1 * -1 + (1 - g1) * 2];
    expect(out.shape).toEqual([1, 1, 2]);
    const got = out.dataSync();
    expect(got[0]).toBeCloseTo(expected[0]!, 5);
    expect(got[1]).toBeCloseTo(expected[1]!, 5);
    tf.dispose([x, s, out]);
  });

  it("sends gradients to every parameter, token gates included, without leaking tensors", () => {
    const local = new ParamStore(2);
    const module = gatedSum.build({ gate: "token", gate_bias: 1 }, { dim: 4, scope: local.root() });
    expect(local.variables.get("gate.bias")!.shape).toEqual([1]); // one gate per token
    const x = tf.randomNormal([2, 3, 4], 0, 1, "float32", 1) as tf.Tensor3D;
    const s = tf.randomNormal([2, 4], 0, 1, "float32", 2) as tf.Tensor2D;
    const input = { tokens: x, sentence: s, words: tf.zeros([2, 1, 4]) as tf.Tensor3D, wordMask: tf.ones([2, 1]) as tf.Tensor2D, pooled: x.mean(1) as tf.Tensor2D };
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(module.forward(input, fc))) as tf.Scalar, local.trainable());
    expect(Object.keys(grads).length).toBe(5);
    const sums = Object.values(grads).map((g) => tf.tidy(() => tf.sum(tf.abs(g))));
    for (const sum of sums) expect(sum.dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([value, ...sums, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(input));
    local.dispose();
  });
});

describe("plugins in recipes", () => {
  const recipeWith = (plugins: string[], module = "acme/GatedSum") =>
    TINY.replace("version: 1\n", `version: 1\nplugins: [${plugins.join(", ")}]\n`).replace("{ type: Beta }", `{ type: ${module} }`);

  it("registers a plugin listed in the recipe, relative to the recipe, and validates its params", async () => {
    const dir = writeTree({});
    const rel = path.relative(dir, EXAMPLE);
    const file = path.join(dir, "r.yaml");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(file, recipeWith([rel]).replace("{ type: acme/GatedSum }", "{ type: acme/GatedSum, gate: token }"));
    const loaded = await loadRecipe(file, { registry: tinyRegistry() });
    expect(loaded.registry.names("module")).toEqual(["Alpha", "Beta", "acme/GatedSum"]);
    expect(loaded.recipe.fusion.modules[1]).toEqual({ type: "acme/GatedSum", gate: "token", gate_bias: 1 });
    expect(loaded.recipe.plugins).toEqual([rel]);
    // Without the plugin the name is unknown, and the message says where plugins are listed.
    const bare = writeTree({ "r.yaml": TINY.replace("{ type: Beta }", "{ type: acme/GatedSum }") });
    const err = (await loadRecipe(path.join(bare, "r.yaml"), { registry: tinyRegistry() }).catch((e: unknown) => e)) as RecipeError;
    expect(err.problems.map((p) => [p.line, p.col, p.message])).toEqual([
      [11, 15, 'unknown fusion module "acme/GatedSum" (registered fusion modules: Alpha, Beta); is the plugin that registers it listed in `plugins:`?'],
    ]);
    // --plugin (relative to the working directory) does the same as `plugins:`.
    const viaFlag = await loadRecipe(path.join(bare, "r.yaml"), { registry: tinyRegistry(), plugins: [path.relative(process.cwd(), EXAMPLE)] });
    expect(viaFlag.recipe.fusion.modules[1]!.type).toBe("acme/GatedSum");
  });

  it("loads the example recipe, which extends the FashionIQ recipe, on the built-in registry", async () => {
    const loaded = await loadRecipe(path.join(ROOT, "examples/plugins/gated-sum.yaml"));
    expect(loaded.recipe.fusion.modules.map((m) => m.type)).toEqual(["JRM", "CAM", "GTM", "RCM", "acme/GatedSum"]);
    expect(loaded.recipe.plugins).toEqual(["./gated-sum.ts"]);
    expect(loaded.recipe.data.dataset).toBe("fashioniq");
  });

  it("lets a plugin register routers and losses too", async () => {
    const registry = await loadRegistry([fixture("acme-router.ts")], tinyRegistry());
    expect(registry.names("router")).toContain("acme/Coin");
    expect(registry.names("loss")).toContain("acme/Zero");
  });

  it("refuses a plugin loss without `weight`", async () => {
    const err = (await loadRegistry([fixture("loss-without-weight.ts")], tinyRegistry()).catch((e: unknown) => e)) as RecipeError;
    expect(err).toBeInstanceOf(RecipeError);
    expect(err.problems[0]!.message).toMatch(/loss "acme\/Free" needs a `weight` parameter/);
  });

  it("reports each broken plugin at its entry in `plugins:`", async () => {
    const entries = ["./gated-sum.ts", "./dup-gated-sum.ts", "./bare-name.ts", "./no-register.ts", "./throws.ts", "./missing.ts"];
    const dir = writeTree({ "r.yaml": recipeWith(entries, "Beta") });
    // Copy the fixtures beside the recipe so the relative paths resolve.
    const { cpSync } = await import("node:fs");
    for (const f of ["dup-gated-sum.ts", "bare-name.ts", "no-register.ts", "throws.ts"]) cpSync(fixture(f), path.join(dir, f));
    cpSync(EXAMPLE, path.join(dir, "gated-sum.ts"));
    // dup-gated-sum imports the example by a path relative to the fixtures dir: rewrite it for the copy.
    const { readFileSync, writeFileSync } = await import("node:fs");
    const dup = path.join(dir, "dup-gated-sum.ts");
    writeFileSync(dup, readFileSync(dup, "utf8").replace(/"\.\.\/\.\.\/\.\.\/\.\.\/examples\/plugins\/gated-sum\.js"/, `"./gated-sum.ts"`).replace(/"\.\.\/\.\.\/\.\.\/\.\.\/src\//g, `"${ROOT}/src/`));
    for (const f of ["bare-name.ts"]) {
      const p = path.join(dir, f);
      writeFileSync(p, readFileSync(p, "utf8").replace(/"\.\.\/\.\.\/\.\.\/\.\.\/src\//g, `"${ROOT}/src/`));
    }
    const gs = path.join(dir, "gated-sum.ts");
    writeFileSync(gs, readFileSync(gs, "utf8").replace(/"\.\.\/\.\.\/src\//g, `"${ROOT}/src/`));

    const err = await loadRecipe(path.join(dir, "r.yaml"), { registry: tinyRegistry() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecipeError);
    // Each problem sits on line 2 (the plugins list), at the column where its entry starts.
    const line = recipeWith(entries, "Beta").split("\n")[1]!;
    const col = (entry: string) => line.indexOf(entry) + 1;
    const problems = (err as RecipeError).problems.map((p) => `${p.line}:${p.col} ${p.message.replace(/plugin [^\s:]+\.ts/g, "plugin F")}`);
    expect(problems).toEqual([
      `2:${col("./dup-gated-sum.ts")} plugin F: module "acme/GatedSum" is already registered by plugin F; rename one of them`,
      `2:${col("./bare-name.ts")} plugin F: "Gate" is not a namespaced name: plugin names look like "acme/GatedSum" (lowercase namespace, "/", name)`,
      expect.stringMatching(new RegExp(`^2:${col("./no-register.ts")} plugin F exports no register function`)),
      `2:${col("./throws.ts")} plugin F failed to load: boom while loading`,
      expect.stringMatching(new RegExp(`^2:${col("./missing.ts")} plugin F: no such file`)),
    ]);
  });
});
