import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { loadRecipe, loadRegistry, recipeJsonSchema } from "../../src/recipe/index.js";
import { createRegistry } from "../../src/builtins.js";
import { KINDS } from "../../src/registry/registry.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CHECKED_IN = path.join(ROOT, "schemas/recipe.schema.json");

describe("schemas/recipe.schema.json", () => {
  it("is what `sdfn schema` generates from the built-ins (run `npm run schema` after changing params)", () => {
    const fresh = `${JSON.stringify(recipeJsonSchema(createRegistry()), null, 2)}\n`;
    const stale = readFileSync(CHECKED_IN, "utf8") !== fresh;
    expect(stale, "schemas/recipe.schema.json is out of date: run `npm run schema` and commit it").toBe(false);
  });

  it("has one discriminated union per kind, with every built-in and its doc", () => {
    const schema = JSON.parse(readFileSync(CHECKED_IN, "utf8"));
    const registry = createRegistry();
    for (const kind of KINDS) {
      const def = schema.$defs[kind];
      const key = kind === "dataset" ? "dataset" : "type";
      expect(def.discriminator, kind).toEqual({ propertyName: key });
      const names = def.oneOf.map((v: any) => v.properties[key].const);
      expect(names, kind).toEqual(registry.names(kind));
      for (const v of def.oneOf) expect(v.description, `${kind} ${v.properties[key].const}`).toBe(registry.get(kind, v.properties[key].const)!.doc);
    }
    expect(schema.properties.fusion.properties.modules.items).toEqual({ $ref: "#/$defs/module" });
    expect(schema.properties.training.properties.optimizer.$ref).toBe("#/$defs/optimizer");
  });

  it("describes every parameter of every declaration (defaults come with .default())", () => {
    const schema = recipeJsonSchema(createRegistry()) as any;
    const undocumented: string[] = [];
    for (const kind of KINDS) {
      for (const variant of schema.$defs[kind].oneOf) {
        for (const [name, prop] of Object.entries<any>(variant.properties)) {
          if (!prop.description) undocumented.push(`${kind} ${variant.title ?? variant.properties.type?.const}.${name}`);
        }
      }
    }
    expect(undocumented).toEqual([]);
  });

  it("gives every loss a `weight` (its λ in the total)", () => {
    const schema = recipeJsonSchema(createRegistry()) as any;
    for (const loss of schema.$defs.loss.oneOf) expect(loss.properties.weight, loss.properties.type.const).toMatchObject({ type: "number" });
  });

  it("includes plugin declarations when given --plugin", async () => {
    const registry = await loadRegistry([path.join(ROOT, "examples/plugins/gated-sum.ts")]);
    const schema = recipeJsonSchema(registry) as any;
    const gs = schema.$defs.module.oneOf.find((v: any) => v.properties.type.const === "acme/GatedSum");
    expect(gs.properties.gate).toMatchObject({ enum: ["channel", "token"], default: "channel" });
    expect(gs.additionalProperties).toBe(false);
  });

  it("accepts the FashionIQ recipe and rejects a typo when used by a plain JSON Schema validator (as editors do)", () => {
    const ajv = new Ajv2020({ allErrors: true, discriminator: true, strict: false });
    const validate = ajv.compile(JSON.parse(readFileSync(CHECKED_IN, "utf8")));
    const recipe = parse(readFileSync(path.join(ROOT, "recipes/sdfn-fashioniq.yaml"), "utf8"));
    expect(validate(recipe), JSON.stringify(validate.errors)).toBe(true);
    recipe.fusion.modules[0].heds = 8;
    expect(validate(recipe)).toBe(false);
    expect(validate.errors!.map((e) => [e.instancePath, e.params])).toEqual([["/fusion/modules/0", { additionalProperty: "heds" }]]);
  });
});

describe("recipes/", () => {
  const files = readdirSync(path.join(ROOT, "recipes")).filter((f) => /\.ya?ml$/.test(f));
  it("holds the paper's FashionIQ recipe", () => {
    expect(files).toContain("sdfn-fashioniq.yaml");
  });
  it.each(files)("%s validates on the built-in registry", async (file) => {
    const loaded = await loadRecipe(path.join(ROOT, "recipes", file));
    expect(loaded.recipe.version).toBe(1);
  });
  it("sdfn-fashioniq.yaml keeps the contract's key names and values", async () => {
    const { recipe } = await loadRecipe(path.join(ROOT, "recipes/sdfn-fashioniq.yaml"));
    expect(recipe.data).toMatchObject({ dataset: "fashioniq", root: "data/fashioniq", categories: ["dress", "shirt", "toptee"], protocol: "val", image_size: 224 });
    expect(recipe.encoders.image).toMatchObject({ type: "resnet50", dim: 1024 });
    expect(recipe.encoders.text).toMatchObject({ type: "lstm", hidden: 1024, embedding_dim: 300 });
    expect(recipe.fusion.layers).toBe(3);
    expect(recipe.fusion.modules.map((m) => m.type)).toEqual(["JRM", "CAM", "GTM", "RCM"]);
    expect(recipe.fusion.router.type).toBe("msr");
    expect(recipe.losses.map((l) => [l.type, l.weight])).toEqual([["batch_classification", 1], ["consistency", 1], ["path_distillation", 1]]);
    expect(recipe.training).toMatchObject({ epochs: 60, batch_size: 32, optimizer: { type: "adam", lr: 0.0002, weight_decay: 0.00005 }, schedule: { type: "step", milestones: [50], gamma: 0.1 } });
    expect(recipe.evaluation.recall_at).toEqual([10, 50]);
  });
});
