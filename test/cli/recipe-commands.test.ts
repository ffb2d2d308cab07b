// The recipe commands end to end: validate, render, schema, modules, help, exit codes.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sdfn } from "../support/cli.js";
import { loadRecipe } from "../../src/recipe/index.js";

const ROOT = path.resolve(import.meta.dirname, "../..");


afterEach(() => vi.restoreAllMocks());

describe("sdfn help", () => {
  it("lists the commands and a way to start; no command is a usage error", async () => {
    const help = await sdfn("--help");
    expect(help.code).toBe(0);
    for (const c of ["validate", "render", "modules", "schema"]) expect(help.out).toMatch(new RegExp(`^  ${c} +\\S`, "m"));
    expect(help.out).toContain("sdfn validate recipes/*.yaml");
    const none = await sdfn();
    expect(none.code).toBe(2);
    expect(none.err).toContain("Usage: sdfn COMMAND");
  });

  it("prints each command's usage with --help, and suggests a command for a typo", async () => {
    const v = await sdfn("validate", "--help");
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^Usage: sdfn validate RECIPE\.\.\./);
    expect(await sdfn("help", "validate")).toEqual(v);
    const typo = await sdfn("valdate", "x.yaml");
    expect(typo.code).toBe(2);
    expect(typo.err).toBe('error: unknown command "valdate"; did you mean "validate"?\nRun sdfn --help for the list of commands.\n');
  });
});

describe("sdfn validate", () => {
  it("prints ok for valid recipes, plugin recipes included", async () => {
    const r = await sdfn("validate", "recipes/sdfn-fashioniq.yaml", "examples/plugins/gated-sum.yaml");
    expect(r).toEqual({ code: 0, out: "ok recipes/sdfn-fashioniq.yaml\nok examples/plugins/gated-sum.yaml\n", err: "" });
  });

  it("validates every recipe in a directory", async () => {
    const r = await sdfn("validate", "recipes");
    expect(r.code).toBe(0);
    expect(r.out).toContain("ok recipes/sdfn-fashioniq.yaml\n");
    expect(r.out).toContain("ok recipes/quickstart.yaml\n");
  });

  it("prints every problem as FILE:LINE:COL: error: MESSAGE and exits 2", async () => {
    const r = await sdfn("validate", "test/recipe/bad/many-problems.yaml", "recipes/sdfn-fashioniq.yaml");
    expect(r.code).toBe(2);
    expect(r.out).toBe("ok recipes/sdfn-fashioniq.yaml\n");
    const lines = r.err.trimEnd().split("\n");
    expect(lines.map((l) => l.split(": error: ")[0])).toEqual([
      ...["3:7", "5:11", "7:15", "8:20", "9:9", "11:14"].map((p) => `test/recipe/bad/many-problems.yaml:${p}`),
      "1 of 2 recipes are invalid",
    ]);
  });

  it("applies --set and names a bad override", async () => {
    expect((await sdfn("validate", "recipes/sdfn-fashioniq.yaml", "--set", "training.epochs=5")).code).toBe(0);
    const r = await sdfn("validate", "recipes/sdfn-fashioniq.yaml", "--set", "fusion.layers=many");
    expect(r).toEqual({ code: 2, out: "", err: '--set fusion.layers=many: error: fusion.layers: expected an integer, got "many"\n' });
  });

  it("rejects an unknown option or a missing recipe as usage errors", async () => {
    const bogus = await sdfn("validate", "--bogus", "recipes/sdfn-fashioniq.yaml");
    expect(bogus.code).toBe(2);
    expect(bogus.err).toMatch(/^error: validate: Unknown option '--bogus'.*\(see sdfn validate --help\)\n$/);
    const none = await sdfn("validate");
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^error: validate: name at least one recipe/);
    const missing = await sdfn("validate", "recipes/nope.yaml");
    expect(missing).toEqual({ code: 2, out: "", err: "recipes/nope.yaml: error: cannot read the recipe: no such file\n" });
  });
});

describe("sdfn render", () => {
  it("prints the resolved recipe with every default, and its canonical JSON hashes to the recipe hash", async () => {
    const r = await sdfn("render", "recipes/sdfn-fashioniq.yaml", "--set", "fusion.layers=2");
    expect(r.code).toBe(0);
    const rendered = parse(r.out);
    expect(rendered.fusion.layers).toBe(2);
    expect(rendered.fusion.router).toEqual({ type: "msr", combine: "mean", hidden: 256, pool: "attention", words: false }); // defaults written out
    expect(rendered.backend).toBe("auto");
    const json = await sdfn("render", "recipes/sdfn-fashioniq.yaml", "--json");
    const loaded = await loadRecipe(path.join(ROOT, "recipes/sdfn-fashioniq.yaml"));
    expect(createHash("sha256").update(json.out.trimEnd()).digest("hex")).toBe(loaded.hash);
  });

  it("exits 2 with the problems for an invalid recipe and prints no YAML", async () => {
    const r = await sdfn("render", "test/recipe/bad/unknown-router.yaml");
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^test\/recipe\/bad\/unknown-router\.yaml:4:19: error: unknown router "shard"/);
  });
});

describe("sdfn schema", () => {
  it("prints the checked-in schema, and writes --out only when it succeeds", async () => {
    const r = await sdfn("schema");
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(path.join(ROOT, "schemas/recipe.schema.json"), "utf8"));
    const dir = mkdtempSync(path.join(tmpdir(), "sdfn-schema-"));
    const out = path.join(dir, "s.json");
    const bad = await sdfn("schema", "--plugin", "nope.ts", "--out", out);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^--plugin nope\.ts: error: plugin nope\.ts: no such file/);
    expect(existsSync(out)).toBe(false);
    const good = await sdfn("schema", "--plugin", "examples/plugins/gated-sum.ts", "--out", out);
    expect(good.code).toBe(0);
    expect(readFileSync(out, "utf8")).toContain('"const": "acme/GatedSum"');
  });
});

describe("sdfn modules", () => {
  it("lists declarations with params, defaults and docs; filters by kind or name", async () => {
    const all = await sdfn("modules");
    expect(all.code).toBe(0);
    expect(all.out).toContain("Fusion modules (module) — fusion.modules: [{ type: NAME, ... }]");
    expect(all.out).toContain("Datasets (dataset) — data: { dataset: NAME, ... }");
    const jrm = await sdfn("modules", "JRM");
    expect(jrm.out).toMatch(/^ {6}heads +integer > 0 += 8 +Attention heads/m);
    expect(jrm.out).not.toContain("CAM");
    const routers = await sdfn("modules", "routers", "--json");
    expect(JSON.parse(routers.out).map((e: { name: string }) => e.name)).toEqual(["msr", "shared", "static"]);
    const plugin = await sdfn("modules", "acme/GatedSum", "--plugin", "examples/plugins/gated-sum.ts");
    expect(plugin.out).toContain("gate_bias");
    const nope = await sdfn("modules", "JMRR");
    expect(nope.code).toBe(2);
    expect(nope.err).toMatch(/nothing is called "JMRR"/);
  });
});

describe("bin/sdfn.js (a real process)", () => {
  const run = promisify(execFile);
  it("exits 2 with the problem and no stack trace, and loads .ts plugins", async () => {
    const bad = await run("node", ["bin/sdfn.js", "validate", "test/recipe/bad/unknown-module.yaml"], { cwd: ROOT }).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(bad?.code).toBe(2);
    expect(bad?.stdout).toBe("");
    expect(bad?.stderr).toMatch(/^test\/recipe\/bad\/unknown-module\.yaml:5:15: error: unknown fusion module "JMR"; did you mean "JRM"\?.*\n$/);
    const ok = await run("node", ["bin/sdfn.js", "validate", "examples/plugins/gated-sum.yaml"], { cwd: ROOT });
    expect(ok.stdout).toBe("ok examples/plugins/gated-sum.yaml\n");
  });
});
