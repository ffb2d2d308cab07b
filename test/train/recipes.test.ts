import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/index.js";

const recipes = join(import.meta.dirname, "..", "..", "recipes");
const load = (f: string) => loadRecipe(join(recipes, f)).then((l) => l.recipe);

describe("paper recipes", () => {
  it.each([
    ["sdfn-fashioniq.yaml", 60, 32, [50]],
    ["sdfn-shoes.yaml", 30, 16, [15]],
    ["sdfn-fashion200k.yaml", 50, 64, [30]],
  ] as const)("%s has the paper's epochs, batch and decay epoch, 3 layers × JRM/CAM/GTM/RCM with MSR", async (file, epochs, batch, milestones) => {
    const r = await load(file);
    expect(r.training).toMatchObject({ epochs, batch_size: batch, schedule: { type: "step", milestones } });
    expect(r.fusion.layers).toBe(3);
    expect(r.fusion.modules.map((m) => m.type)).toEqual(["JRM", "CAM", "GTM", "RCM"]);
    expect(r.fusion.router.type).toBe("msr");
    expect(r.losses.map((l) => l.type)).toEqual(["batch_classification", "consistency", "path_distillation"]);
  });
});

describe("Table 3 ablations", () => {
  const full = ["batch_classification", "consistency", "path_distillation"];
  it.each([
    ["baseline", "static", ["batch_classification"], ["JRM", "CAM", "GTM", "RCM"]],
    ["plus-sr", "shared", ["batch_classification"], ["JRM", "CAM", "GTM", "RCM"]],
    ["plus-msr", "msr", ["batch_classification"], ["JRM", "CAM", "GTM", "RCM"]],
    ["plus-consistency", "msr", ["batch_classification", "consistency"], ["JRM", "CAM", "GTM", "RCM"]],
    ["plus-spd", "msr", full, ["JRM", "CAM", "GTM", "RCM"]],
    ["without-jrm", "msr", full, ["CAM", "GTM", "RCM"]],
    ["without-cam", "msr", full, ["JRM", "GTM", "RCM"]],
    ["without-gtm", "msr", full, ["JRM", "CAM", "RCM"]],
    ["without-rcm", "msr", full, ["JRM", "CAM", "GTM"]],
  ])("%s: router %s, losses %j, modules %j, otherwise the FashionIQ recipe", async (row, router, losses, modules) => {
    const r = await load(`ablations/${row}.yaml`);
    expect(r.name).toBe(`ablation-${row}`);
    expect(r.fusion.router.type).toBe(router);
    expect(r.losses.map((l) => l.type)).toEqual(losses);
    expect(r.fusion.modules.map((m) => m.type)).toEqual(modules);
    expect(r.training).toEqual((await load("sdfn-fashioniq.yaml")).training);
  });
});
