import { readdirSync } from "node:fs";
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

  it.each(["sdfn-fashioniq.yaml", "sdfn-shoes.yaml", "sdfn-fashion200k.yaml"])(
    "%s starts from ImageNet ResNet-50 (torchvision IMAGENET1K_V1) and GloVe 840B.300d at the documented paths",
    async (file) => {
      const r = await load(file);
      expect(r.encoders.image).toMatchObject({ type: "resnet50", weights: "weights/resnet50-0676ba61.pth" });
      expect(r.encoders.text).toMatchObject({ type: "lstm", embedding_dim: 300, glove: "weights/glove.840B.300d.txt" });
    },
  );

  it("sdfn-fashioniq.yaml evaluates as the paper reports, VAL's protocol: VAL's gallery and one query per caption; every image must be there", async () => {
    const r = await load("sdfn-fashioniq.yaml");
    expect(r.data).toMatchObject({ dataset: "fashioniq", protocol: "val", query_form: "per_caption", train_form: "same", missing_images: "error" });
  });
});

describe("Table 3 ablations", () => {
  const cls = ["batch_classification"];
  const con = ["batch_classification", "consistency"];
  const full = ["batch_classification", "consistency", "path_distillation"];
  const all = ["JRM", "CAM", "GTM", "RCM"];
  // The paper's seven router/loss rows and four module removals, one recipe each, per dataset.
  const rows: Record<string, [router: string, losses: string[], modules: string[]]> = {
    baseline: ["static", cls, all],
    "baseline-consistency": ["static", con, all],
    "plus-sr": ["shared", cls, all],
    "plus-msr": ["msr", cls, all],
    "plus-sr-consistency": ["shared", con, all],
    "plus-consistency": ["msr", con, all],
    "plus-spd": ["msr", full, all],
    "without-jrm": ["msr", full, ["CAM", "GTM", "RCM"]],
    "without-cam": ["msr", full, ["JRM", "GTM", "RCM"]],
    "without-gtm": ["msr", full, ["JRM", "CAM", "RCM"]],
    "without-rcm": ["msr", full, ["JRM", "CAM", "GTM"]],
  };
  const all11 = Object.keys(rows);
  const routerLossRows = all11.filter((r) => !r.startsWith("without-"));
  const sets = [
    { dir: "ablations", prefix: "ablation-", base: "sdfn-fashioniq.yaml", names: all11 },
    { dir: "ablations/shoes", prefix: "ablation-shoes-", base: "sdfn-shoes.yaml", names: all11 },
    // the router/loss rows on the generated shapes data at the quickstart size (docs/experiments.md)
    { dir: "ablations/quickstart", prefix: "ablation-quickstart-", base: "quickstart.yaml", names: routerLossRows },
  ];

  it.each(sets)("$dir holds exactly its rows", ({ dir, names }) => {
    const files = readdirSync(join(recipes, dir)).filter((f) => f.endsWith(".yaml")).map((f) => f.replace(/\.yaml$/, ""));
    expect(files.sort()).toEqual([...names].sort());
  });

  // Table 3's "w/ SR → w/ MSR" step must change the modality split alone: the shared router
  // pools its module's region tokens exactly as msr's image router does (same pool, same width).
  it.each(sets)("$dir: the SR and MSR rows pool the region tokens the same way (attention) at the same width", async ({ dir, base }) => {
    const routerOf = async (row: string) => (await load(`${dir}/${row}.yaml`)).fusion.router as { type: string; hidden?: number; pool?: string };
    const [sr, msr, srCon, msrCon] = await Promise.all(["plus-sr", "plus-msr", "plus-sr-consistency", "plus-consistency"].map(routerOf));
    const common = (r: { hidden?: number; pool?: string }) => ({ hidden: r.hidden, pool: r.pool });
    expect([sr!.type, msr!.type, srCon!.type, msrCon!.type]).toEqual(["shared", "msr", "shared", "msr"]);
    expect(common(sr!)).toEqual(common(msr!));
    expect(common(srCon!)).toEqual(common(msrCon!));
    expect(sr!.pool).toBe("attention");
    // on the paper's datasets the full SDFN (plus-spd, without-*) pools the same way too
    if (base !== "quickstart.yaml") expect((await load(base)).fusion.router).toMatchObject({ type: "msr", pool: "attention" });
  });

  const cases = sets.flatMap((set) => set.names.map((row) => ({ ...set, row, want: rows[row]! })));
  it.each(cases)("$dir/$row: its router, losses and modules, otherwise the dataset's paper recipe", async ({ dir, prefix, base, row, want }) => {
    const [router, losses, modules] = want;
    const r = await load(`${dir}/${row}.yaml`);
    const paper = await load(base);
    expect(r.name).toBe(`${prefix}${row}`);
    expect(r.fusion.router.type).toBe(router);
    expect(r.losses.map((l) => l.type)).toEqual(losses);
    expect(r.fusion.modules.map((m) => m.type)).toEqual(modules);
    expect(r.fusion.layers).toBe(paper.fusion.layers);
    expect(r.training).toEqual(paper.training);
    expect(r.data).toEqual(paper.data);
    expect(r.encoders).toEqual(paper.encoders);
    expect(r.evaluation).toEqual(paper.evaluation);
    // a row's losses keep the paper recipe's weights and temperature
    for (const l of r.losses) expect(l).toEqual(paper.losses.find((p) => p.type === l.type));
  });
});
