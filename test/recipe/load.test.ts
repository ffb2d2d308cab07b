import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadRecipe, paramsOf, RecipeError, type Problem } from "../../src/recipe/index.js";
import { TINY, tinyRegistry, writeTree } from "./helpers.js";

/** The problems of loading `file`, as `LINE:COL MESSAGE` (file name dropped) for compact assertions. */
async function problemsOf(file: string, opts: Parameters<typeof loadRecipe>[1] = {}): Promise<Problem[]> {
  try {
    await loadRecipe(file, { registry: tinyRegistry(), ...opts });
  } catch (err) {
    if (err instanceof RecipeError) return err.problems;
    throw err;
  }
  throw new Error(`${file} loaded without problems`);
}

describe("loadRecipe", () => {
  it("fills every default and freezes the result", async () => {
    const dir = writeTree({ "r.yaml": TINY });
    const loaded = await loadRecipe(path.join(dir, "r.yaml"), { registry: tinyRegistry() });
    const r = loaded.recipe;
    expect(r.seed).toBe(0);
    expect(r.backend).toBe("auto");
    expect(r.data).toEqual({ dataset: "toy", root: "data/toy", size: 4 });
    expect(r.fusion.modules).toEqual([
      { type: "Alpha", heads: 4 },
      { type: "Beta", scale: 1 },
    ]);
    // Omitted kind fields with a fallback: router msr, optimizer adam, schedule step, with their defaults.
    expect(r.fusion.router).toEqual({ type: "msr", hidden: 4 });
    expect(r.training.optimizer).toEqual({ type: "adam", lr: 0.001 });
    expect(r.training.schedule).toEqual({ type: "step", milestones: [], gamma: 0.1 });
    expect(r.training.epochs).toBe(60);
    expect(r.evaluation.recall_at).toEqual([10, 50]);
    expect(Object.isFrozen(r.fusion.modules[0])).toBe(true);
    expect(() => {
      (r.fusion as { layers: number }).layers = 9;
    }).toThrow(TypeError);
    expect(loaded.file).toBe(path.join(dir, "r.yaml"));
    expect(loaded.dir).toBe(dir);
    expect(paramsOf(r.fusion.modules[0]!)).toEqual({ heads: 4 });
    expect(paramsOf(r.data)).toEqual({ root: "data/toy", size: 4 });
  });

  it("names the recipe after its file when `name` is absent", async () => {
    const dir = writeTree({ "my-exp.yaml": TINY.replace("name: tiny\n", "") });
    const { recipe } = await loadRecipe(path.join(dir, "my-exp.yaml"), { registry: tinyRegistry() });
    expect(recipe.name).toBe("my-exp");
  });

  it("hashes the resolved recipe: same content → same hash, and the rendered YAML reloads to it", async () => {
    const dir = writeTree({
      "a.yaml": TINY,
      // Same recipe with keys reordered and a default written out.
      "b.yaml": TINY.replace("version: 1\nname: tiny\n", "name: tiny\nseed: 0\nversion: 1\n"),
      "c.yaml": TINY.replace("heads: 4", "heads: 2"), // another width split (heads must divide d = 8)
    });
    const reg = tinyRegistry();
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((n) => loadRecipe(path.join(dir, `${n}.yaml`), { registry: reg })));
    expect(a!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b!.hash).toBe(a!.hash);
    expect(c!.hash).not.toBe(a!.hash);
    const again = writeTree({ "tiny.yaml": a!.yaml });
    const reloaded = await loadRecipe(path.join(again, "tiny.yaml"), { registry: reg });
    expect(reloaded.hash).toBe(a!.hash);
    expect(a!.yaml).toContain("recall_at: [10, 50]");
  });

  it("does not change the registry it is given", async () => {
    const reg = tinyRegistry();
    const dir = writeTree({ "r.yaml": TINY });
    const loaded = await loadRecipe(path.join(dir, "r.yaml"), { registry: reg });
    expect(loaded.registry).not.toBe(reg);
    expect(loaded.registry.names("module")).toEqual(["Alpha", "Beta"]);
  });
});

describe("extends", () => {
  const base = TINY;
  it("deep-merges mappings, replaces lists, and resolves paths against the extending file", async () => {
    const dir = writeTree({
      "base/base.yaml": base,
      "exp/child.yaml": `extends: ../base/base.yaml
name: child
fusion:
  layers: 3
  modules: [{ type: Beta, scale: 2 }]
encoders:
  image: { dim: 16 }
`,
    });
    const { recipe } = await loadRecipe(path.join(dir, "exp/child.yaml"), { registry: tinyRegistry() });
    expect(recipe.name).toBe("child");
    expect(recipe.fusion.layers).toBe(3);
    expect(recipe.fusion.modules).toEqual([{ type: "Beta", scale: 2 }]); // replaced, not appended
    expect(recipe.encoders.image).toEqual({ type: "img", dim: 16 }); // merged: type kept from the base
    expect(recipe.losses).toEqual([{ type: "ce", weight: 0.5 }]); // inherited
  });

  it("does not inherit the base's name: an unnamed child is named after its file", async () => {
    const dir = writeTree({ "base.yaml": TINY, "ablation.yaml": "extends: ./base.yaml\nseed: 1\n" });
    const { recipe } = await loadRecipe(path.join(dir, "ablation.yaml"), { registry: tinyRegistry() });
    expect(recipe.name).toBe("ablation");
  });

  it("replaces a mapping whose `type` changes instead of merging the other type's params", async () => {
    const dir = writeTree({
      "base.yaml": TINY.replace("layers: 2", "layers: 2\n  router: { type: msr, hidden: 9 }"),
      "child.yaml": "extends: ./base.yaml\nfusion:\n  router: { type: static }\n",
    });
    const { recipe } = await loadRecipe(path.join(dir, "child.yaml"), { registry: tinyRegistry() });
    expect(recipe.fusion.router).toEqual({ type: "static" });
  });

  it("applies a list of bases in order, later ones winning", async () => {
    const dir = writeTree({
      "base.yaml": TINY,
      "seed1.yaml": "seed: 1\nbackend: cpu\n",
      "seed2.yaml": "seed: 2\n",
      "child.yaml": "extends: [./base.yaml, ./seed1.yaml, ./seed2.yaml]\n",
    });
    const { recipe } = await loadRecipe(path.join(dir, "child.yaml"), { registry: tinyRegistry() });
    expect([recipe.seed, recipe.backend]).toEqual([2, "cpu"]);
  });

  it("reports an error inside a base at its place in the base file", async () => {
    const dir = writeTree({
      "base.yaml": TINY.replace("layers: 2", "layers: two"),
      "child.yaml": "extends: ./base.yaml\nseed: 3\n",
    });
    const problems = await problemsOf(path.join(dir, "child.yaml"));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 8, col: 11, message: 'fusion.layers: expected an integer, got "two"' });
    expect(problems[0]!.file.endsWith("base.yaml")).toBe(true);
  });

  it("points at the overriding file when the child sets the bad value", async () => {
    const dir = writeTree({ "base.yaml": TINY, "child.yaml": "extends: ./base.yaml\nfusion:\n  layers: 0\n" });
    const problems = await problemsOf(path.join(dir, "child.yaml"));
    expect(problems.map((p) => [path.basename(p.file), p.line, p.col])).toEqual([["child.yaml", 3, 11]]);
  });
});

describe("checks beyond JSON Schema", () => {
  it("reports a zod refinement of a declaration's params at the entry", async () => {
    const reg = tinyRegistry();
    const { z } = await import("zod");
    reg.register("module", {
      name: "Pair",
      doc: "two sizes, the first smaller",
      params: z.object({ lo: z.number().default(1).describe("lo"), hi: z.number().default(2).describe("hi") }).refine((p) => p.lo < p.hi, { message: "lo must be below hi" }),
      build: () => ({}),
    });
    const dir = writeTree({ "r.yaml": TINY.replace("{ type: Beta }", "{ type: Pair, lo: 3, hi: 2 }") });
    const err = (await loadRecipe(path.join(dir, "r.yaml"), { registry: reg }).catch((e: unknown) => e)) as RecipeError;
    expect(err.problems.map((p) => [p.line, p.col, p.message])).toEqual([[11, 7, "fusion.modules[1]: lo must be below hi"]]);
  });
});

describe("parameters of union type", () => {
  it("summarise a union's branches in one problem", async () => {
    const reg = tinyRegistry();
    const { z } = await import("zod");
    reg.register("module", {
      name: "Mixed",
      doc: "a union-typed and a nullable param",
      params: z.object({
        size: z.union([z.number(), z.array(z.number())]).default(1).describe("one size or one per layer"),
        path: z.string().nullable().default(null).describe("a file or null"),
      }),
      build: () => ({}),
    });
    const dir = writeTree({ "r.yaml": TINY.replace("{ type: Beta }", "{ type: Mixed, size: big, path: 3 }") });
    const err = (await loadRecipe(path.join(dir, "r.yaml"), { registry: reg }).catch((e: unknown) => e)) as RecipeError;
    expect(err.problems.map((p) => [p.line, p.col, p.message])).toEqual([
      [11, 28, 'fusion.modules[1].size: expected a number or a list, got "big"'],
      [11, 39, "fusion.modules[1].path: expected a string or null, got 3"],
    ]);
  });
});

describe("--set overrides", () => {
  it("parses values as YAML, addresses list entries by index and creates missing mappings", async () => {
    const dir = writeTree({ "r.yaml": TINY });
    const { recipe } = await loadRecipe(path.join(dir, "r.yaml"), {
      registry: tinyRegistry(),
      sets: ["seed=7", "fusion.modules.1.scale=0.5", "evaluation.recall_at=[1, 5]", "training.schedule={type: step, milestones: [3]}", "backend=cpu"],
    });
    expect(recipe.seed).toBe(7);
    expect(recipe.fusion.modules[1]).toEqual({ type: "Beta", scale: 0.5 });
    expect(recipe.evaluation.recall_at).toEqual([1, 5]);
    expect(recipe.training.schedule).toEqual({ type: "step", milestones: [3], gamma: 0.1 });
    expect(recipe.backend).toBe("cpu");
  });

  it("drops the old type's parameters when --set changes a `type`", async () => {
    const dir = writeTree({ "r.yaml": TINY.replace("layers: 2", "layers: 2\n  router: { type: msr, hidden: 9 }") });
    const reg = tinyRegistry();
    const swapped = await loadRecipe(path.join(dir, "r.yaml"), { registry: reg, sets: ["fusion.router.type=static"] });
    expect(swapped.recipe.fusion.router).toEqual({ type: "static" });
    const same = await loadRecipe(path.join(dir, "r.yaml"), { registry: reg, sets: ["fusion.router.type=msr"] });
    expect(same.recipe.fusion.router).toEqual({ type: "msr", hidden: 9 });
  });

  it("names the override in its problems", async () => {
    const dir = writeTree({ "r.yaml": TINY });
    const problems = await problemsOf(path.join(dir, "r.yaml"), {
      sets: ["training.epochs=abc", "fusion.modules.5.heads=1", "nonsense", "name.x=1", "fusion.modules.0.type=Alpah", "plugins=[x.ts]"],
    });
    expect(problems.map((p) => `${p.file} | ${p.message}`)).toEqual([
      "--set fusion.modules.5.heads=1 | fusion.modules has 2 entries: index 5 is out of range (0 to 1)",
      "--set nonsense | expected KEY.PATH=VALUE, e.g. --set training.epochs=5",
      "--set name.x=1 | name is the string \"tiny\", not a mapping: it has no key \"x\"",
      "--set plugins=[x.ts] | plugins cannot be set with --set; use --plugin FILE",
      '--set fusion.modules.0.type=Alpah | unknown fusion module "Alpah"; did you mean "Alpha"? (registered fusion modules: Alpha, Beta)',
      '--set training.epochs=abc | training.epochs: expected an integer, got "abc"',
    ]);
    expect(problems.every((p) => p.line === 0 && p.col === 0)).toBe(true);
  });
});
