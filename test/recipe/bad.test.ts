// The bad-recipe corpus: every file in test/recipe/bad/ (bases/ holds the files they
// extend) fails to load with exactly the problems below, at exactly these places.
// A location is LINE:COL in the recipe itself, FILE:LINE:COL in another file (a base),
// or the `--set …` argument; the message must start with the text given.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadRecipe, RecipeError } from "../../src/recipe/index.js";
import { formatProblem } from "../../src/recipe/problems.js";

const DIR = "test/recipe/bad";
const REG_MODULES = "(registered fusion modules: JRM, CAM, GTM, RCM, TIRG, ARTEMIS, Combiner";

const CORPUS: Record<string, [where: string, message: string][]> = {
  "unknown-module.yaml": [["5:15", `unknown fusion module "JMR"; did you mean "JRM"? ${REG_MODULES}`]],
  "unknown-module-case.yaml": [["5:13", `unknown fusion module "jrm"; did you mean "JRM"? ${REG_MODULES}`]],
  "unknown-router.yaml": [["4:19", `unknown router "shard"; did you mean "shared"? (registered routers: msr, shared, static`]],
  "unknown-loss.yaml": [["5:13", `unknown loss "consistancy"; did you mean "consistency"? (registered losses: batch_classification, consistency, path_distillation`]],
  "unknown-dataset.yaml": [["4:12", `unknown dataset "fashion-iq"; did you mean "fashioniq"? (registered datasets: fashioniq, shoes, fashion200k, shapes`]],
  "unknown-key-in-module.yaml": [["5:20", `unknown key "heds" in fusion.modules[0] (JRM); did you mean "heads"?`]],
  "unknown-top-level-key.yaml": [["3:1", `unknown key "trainig" in the recipe; did you mean "training"?`]],
  "misplaced-key.yaml": [["3:1", `unknown key "epochs" in the recipe; it belongs one level down: put it under training: (training.epochs)`]],
  "unknown-key-no-suggestion.yaml": [["4:3", `unknown key "colour" in fusion; allowed keys: layers, modules, router`]],
  "other-dataset-param.yaml": [["4:3", `unknown key "train_pairs" in data (fashioniq); allowed keys: dataset, root, categories, protocol,`]],
  "wrong-type-string.yaml": [["4:11", `training.epochs: expected an integer, got "sixty"`]],
  "wrong-type-float.yaml": [["4:15", "training.batch_size: expected an integer, got 32.5"]],
  "below-minimum.yaml": [["4:11", "fusion.layers: must be >= 1, got 0"]],
  "empty-modules.yaml": [["4:12", "fusion.modules: needs at least 1 entry, got 0"]],
  "missing-type.yaml": [["6:7", `fusion.modules[1]: missing "type:" naming the fusion module; one of JRM, CAM, GTM, RCM`]],
  "module-as-string.yaml": [["5:7", `fusion.modules[0]: expected a mapping, got "JRM"; write { type: JRM }`]],
  "type-not-string.yaml": [["5:15", "fusion.modules[0].type: expected the name of a fusion module (a string), got 5"]],
  "bad-backend.yaml": [["3:10", `backend: expected one of auto, cpu, torch, wasm, tensorflow, webgpu`]],
  "bad-enum-param.yaml": [["4:13", `data.protocol: expected one of val, original; got "vall"; did you mean "val"?`]],
  "bad-name.yaml": [["3:7", `name: "my recipe" is not allowed: use letters, digits, '.', '_' and '-' (it names the run directory)`]],
  "missing-sections.yaml": [
    ["2:1", `missing required key "data" in the recipe (registered datasets: fashioniq,`],
    ["2:1", `missing required key "encoders" in the recipe`],
    ["2:1", `missing required key "losses" in the recipe (registered losses: batch_classification,`],
  ],
  "missing-dataset.yaml": [["3:1", `data: missing "dataset:" naming the dataset; one of fashioniq, shoes, fashion200k, shapes`]],
  "missing-version.yaml": [["2:1", `missing required key "version" in the recipe`]],
  "newer-version.yaml": [["3:10", "version 2 is newer than this sdfn reads (1); update sdfn"]],
  "old-version.yaml": [["3:10", "version 0 is not a recipe version (this sdfn reads 1)"]],
  "duplicate-key.yaml": [["6:3", `duplicate key "epochs" (first set at line 4:3); keep one of them`]],
  "unclosed-bracket.yaml": [["4:12", "YAML syntax: unclosed [: add the closing ]"]],
  "unclosed-quote.yaml": [["3:7", `YAML syntax: unclosed string: add the closing "`]],
  "tab-indent.yaml": [["4:1", "YAML syntax: tabs are not allowed for indentation; use spaces"]],
  "not-a-mapping.yaml": [["2:1", "a recipe is a mapping of sections (version: 1, data: ..., fusion: ...), not a list or a value"]],
  "empty.yaml": [["1:1", "the recipe is empty: expected a mapping (version, name, data, encoders, fusion, ...)"]],
  "empty-section.yaml": [["3:10", "encoders: expected a mapping, got nothing"]],
  "unknown-alias.yaml": [["4:9", `unknown alias "*text": define it first with "&text"`]],
  "extends-missing.yaml": [["2:10", `extends: cannot read "./no-such-base.yaml" (no such file; paths are relative to test/recipe/bad)`]],
  "extends-cycle.yaml": [["bases/cycle-b.yaml:2:10", "extends cycle: extends-cycle.yaml → cycle-b.yaml → extends-cycle.yaml; a recipe cannot extend itself"]],
  "extends-broken-base.yaml": [["bases/broken-syntax.yaml:3:7", "YAML syntax: unclosed {: add the closing }"]],
  "extends-invalid-base.yaml": [["bases/bad-value.yaml:4:11", `fusion.layers: expected an integer, got "three"`]],
  "extends-not-a-path.yaml": [["2:49", "extends: expected a file path or a list of file paths (strings), relative to this recipe"]],
  "plugins-not-paths.yaml": [["3:10", "plugins: expected a file path or a list of file paths (strings), relative to this recipe"]],
  "set-wrong-type.yaml": [["--set training.epochs=abc", `training.epochs: expected an integer, got "abc"`]],
  "set-out-of-range.yaml": [["--set fusion.modules.9.heads=2", "fusion.modules has 4 entries: index 9 is out of range (0 to 3)"]],
  "plugin-missing.yaml": [["3:11", "plugin test/recipe/bad/plugins/no-such-plugin.ts: no such file (plugin paths are relative to the recipe that lists them"]],
  "plugin-not-listed.yaml": [["5:15", `unknown fusion module "acme/GatedSum" ${REG_MODULES}); is the plugin that registers it listed in \`plugins:\`?`]],
  "plugin-bad-param.yaml": [["6:36", `fusion.modules[0].gate: expected one of channel, token; got "pixel"`]],
  "plugin-duplicate.yaml": [["5:5", `plugin test/recipe/fixtures/plugins/dup-gated-sum.ts: module "acme/GatedSum" is already registered by plugin examples/plugins/gated-sum.ts; rename one of them`]],
  "plugin-not-namespaced.yaml": [["3:11", `plugin test/recipe/fixtures/plugins/bare-name.ts: "Gate" is not a namespaced name: plugin names look like "acme/GatedSum"`]],
  "proto-key.yaml": [["3:13", `"__proto__" is not allowed as a key: it names JavaScript's object prototype machinery, not a recipe value; remove it`]],
  "constructor-key.yaml": [["6:5", `"constructor" is not allowed as a key: it names JavaScript's object prototype machinery`]],
  "set-proto-key.yaml": [["--set __proto__.x=1", `"__proto__" is not allowed as a key: it names JavaScript's object prototype machinery`]],
  "set-proto-value.yaml": [["--set training={__proto__: {epochs: 9}}", `in the value: "__proto__" is not allowed as a key`]],
  "alias-bomb.yaml": [["5:10", `aliases expand to more than 10000 values (a YAML "billion laughs" file?): write the values out, or alias fewer of them`]],
  "extends-not-yaml.yaml": [["2:10", `extends: "../fixtures/plugins/throws.ts" is not a recipe: a base is a .yaml or .yml file (plugins go under plugins:)`]],
  "heads-not-dividing.yaml": [["5:27", "fusion.modules[0].heads: 3 heads do not divide the fusion width d = 1024 (encoders.image.dim); use one of 1, 2, 4, 8, 16, 32, 64, or change the width"]],
  "std-zero.yaml": [["4:16", "data.std[1]: must be > 0, got 0"]],
  "recall-beyond-gallery.yaml": [["5:22", `evaluation.recall_at[2]: R@100 is not below the gallery size: the evaluation gallery "shapes" holds at most 64 images, so every query would count as found (100 %); use K < 64, or enlarge the gallery`]],
  "image-size-huge.yaml": [["4:15", "data.image_size: must be <= 4096, got 1000000000"]],
  "name-too-long.yaml": [["3:7", "name: 300 characters; at most 200 allowed (it names the run directory, a date is added, and file names are at most 255 bytes)"]],
  "many-problems.yaml": [
    ["3:7", "seed: must be >= 0, got -1"],
    ["5:11", "fusion.layers: must be >= 1, got 0"],
    ["7:15", `unknown fusion module "CMA"; did you mean "CAM"?`],
    ["8:20", `unknown key "heads" in fusion.modules[1] (GTM); it takes no parameters`],
    ["9:9", "losses: needs at least 1 entry, got 0"],
    ["11:14", "evaluation.recall_at: expected a list, got 10"],
  ],
};

/** `# set: KEY=VALUE` lines of a corpus file become --set overrides. */
const setsOf = (file: string) => [...readFileSync(file, "utf8").matchAll(/^# set: (.+)$/gm)].map((m) => m[1]!);

describe("bad recipes", () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml")).sort();

  it("has at least 25 bad recipes, each with its expected problems here", () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
    expect(files).toEqual(Object.keys(CORPUS).sort());
  });

  it.each(Object.entries(CORPUS))("%s", async (name, expected) => {
    const file = path.join(DIR, name);
    const err = await loadRecipe(file, { sets: setsOf(file) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, `${name} should be invalid`).toBeInstanceOf(RecipeError);
    const problems = (err as RecipeError).problems;
    const where = (p: (typeof problems)[number]) =>
      p.line === 0 ? p.file : `${p.file === file ? "" : `${path.relative(DIR, p.file)}:`}${p.line}:${p.col}`;
    expect(problems.map(where), problems.map(formatProblem).join("\n")).toEqual(expected.map(([w]) => w));
    problems.forEach((p, i) => expect(p.message.startsWith(expected[i]![1]), `${p.message}\n  should start with\n${expected[i]![1]}`).toBe(true));
  });
});
