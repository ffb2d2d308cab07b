// Bad recipes that cannot live in test/recipe/bad as files (too large, not UTF-8, a plugin that
// does not compile or is loaded as CommonJS), generated here: each is located, exit code 2 from
// `sdfn validate`, and nothing is written.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatProblem, loadRecipe, RecipeError } from "../../src/recipe/index.js";
import { sdfnProcess } from "../support/cli.js";

const ROOT = resolve(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "sdfn-bad-bytes-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const BASE = `extends: ${join(ROOT, "recipes/sdfn-fashioniq.yaml")}\n`;

/** Writes `bytes` as `name` in the scratch folder and returns every problem loading it gives, formatted. */
async function problemsOf(name: string, bytes: string | Buffer): Promise<string[]> {
  const file = join(work, name);
  writeFileSync(file, bytes);
  const err = await loadRecipe(file).then(() => undefined, (e: unknown) => e);
  expect(err, `${name} should be invalid`).toBeInstanceOf(RecipeError);
  return (err as RecipeError).problems.map(formatProblem).map((p) => p.replace(`${work}/`, ""));
}

describe("bad bytes", () => {
  it("a 2 MiB string is reported at its line, not parsed", async () => {
    const t0 = performance.now();
    expect(await problemsOf("huge.yaml", `${BASE}name: "${"a".repeat(2 << 20)}"\n`)).toEqual([
      "huge.yaml:2:1: error: this line is 2097160 characters long (the file is 2.0 MiB): a recipe is at most 1 MiB and a value at most 4096 characters",
    ]);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("a 5000-character value in a small file is reported at the value", async () => {
    expect(await problemsOf("long-value.yaml", `${BASE}data:\n  root: ${"r".repeat(5000)}\n`)).toEqual([
      "long-value.yaml:3:9: error: a value of 5000 characters: recipe values are at most 4096 (is this the right file?)",
    ]);
  });

  it("a byte that is not UTF-8 is named at its line and column", async () => {
    const text = Buffer.concat([Buffer.from(`${BASE}# café — fine\nname: caf`), Buffer.from([0xe9]), Buffer.from("\n")]);
    expect(await problemsOf("latin1.yaml", text)).toEqual([
      "latin1.yaml:3:10: error: not UTF-8: byte 0xE9 here (Latin-1 or Windows-1252 text?); save the file as UTF-8",
    ]);
  });

  it("UTF-16, with or without a byte order mark, is named as such", async () => {
    const utf16 = Buffer.from(`${BASE}seed: 1\n`, "utf16le");
    const message = "error: the file is UTF-16 (little-endian) text; recipes are read as UTF-8: save it as UTF-8 (e.g. iconv -f UTF-16LE -t UTF-8 FILE)";
    expect(await problemsOf("bom.yaml", Buffer.concat([Buffer.from([0xff, 0xfe]), utf16]))).toEqual([`bom.yaml:1:1: ${message}`]);
    expect(await problemsOf("no-bom.yaml", utf16)).toEqual([`no-bom.yaml:1:1: ${message}`]);
    const be = Buffer.from(utf16).swap16();
    expect((await problemsOf("be.yaml", Buffer.concat([Buffer.from([0xfe, 0xff]), be])))[0]).toMatch(/UTF-16 \(big-endian\).*-f UTF-16BE/);
  });

  it("a UTF-8 byte order mark is fine, and so is a U+FFFD written in the file", async () => {
    const file = join(work, "bom8.yaml");
    writeFileSync(file, `\uFEFF${BASE}# \uFFFD is a character too\nseed: 3\n`);
    expect((await loadRecipe(file)).recipe.seed).toBe(3);
  });

  it("a base that is binary is reported at the extends entry", async () => {
    writeFileSync(join(work, "image.yaml"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    expect(await problemsOf("extends-binary.yaml", "extends: ./image.yaml\nseed: 1\n")).toEqual([
      'extends-binary.yaml:1:10: error: extends: "./image.yaml" is not a YAML recipe: a zero byte: this is a binary file, not a YAML recipe (3:1 there)',
    ]);
  });
});

describe("bad plugins", () => {
  // Plugins that import sdfn as a user's would: through node_modules/sdfn (a link to this checkout).
  const project = (name: string, pkg: object) => {
    const dir = join(work, name);
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    symlinkSync(ROOT, join(dir, "node_modules", "sdfn"));
    writeFileSync(join(dir, "package.json"), JSON.stringify(pkg));
    return dir;
  };

  it("a syntax error is located in the plugin file, with the compiler's message", async () => {
    const dir = project("esm", { type: "module" });
    writeFileSync(join(dir, "broken.ts"), 'export function register(registry: unknown): void {\n  const x = ;\n}\n');
    writeFileSync(join(dir, "recipe.yaml"), `${BASE}plugins: [./broken.ts]\n`);
    // In this process vite compiles it (oxc's message); under bin/sdfn.js tsx does (esbuild's).
    const err = (await loadRecipe(join(dir, "recipe.yaml")).catch((e: unknown) => e)) as RecipeError;
    // Both places: the recipe's `plugins:` entry that named it, and where the compiler stopped.
    const named = `${join(dir, "recipe.yaml")}:2:11: error: plugin ${join(dir, "broken.ts")} failed to load: a syntax error at ${join(dir, "broken.ts")}:2:13`;
    expect(err.problems.map(formatProblem)).toEqual([`${join(dir, "broken.ts")}:2:13: error: plugin ${join(dir, "broken.ts")}: syntax error: Unexpected token`, named]);
    const r = sdfnProcess(["validate", join(dir, "recipe.yaml")]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${join(dir, "broken.ts")}:2:13: error: plugin ${join(dir, "broken.ts")}: syntax error: Unexpected ";"\n${named}\n`);
    // The same through --plugin: named at the flag and in the file.
    const flag = sdfnProcess(["modules", "--plugin", join(dir, "broken.ts")]);
    expect(flag.code).toBe(2);
    expect(flag.err).toBe(`${join(dir, "broken.ts")}:2:13: error: plugin ${join(dir, "broken.ts")}: syntax error: Unexpected ";"\n--plugin ${join(dir, "broken.ts")}: error: plugin ${join(dir, "broken.ts")}: syntax error: Unexpected ";"\n`);
  });

  it("--no-plugins runs no plugin file: its names are reported as not checked, exit 0", async () => {
    const dir = project("untrusted", { type: "module" });
    const marker = join(dir, "ran");
    writeFileSync(join(dir, "evil.ts"), `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "x");\nexport function register(): void {}\n`);
    writeFileSync(join(dir, "recipe.yaml"), `${BASE}plugins: [./evil.ts]\nfusion:\n  modules: [{ type: JRM }, { type: acme/Evil, x: 1 }]\n`);
    const r = sdfnProcess(["validate", "--no-plugins", join(dir, "recipe.yaml")]);
    expect(r.err).toBe("");
    expect(r.out).toBe(`ok ${join(dir, "recipe.yaml")} (plugins not run; not checked: acme/Evil and their parameters)\n`);
    expect(r.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  it('a .ts plugin in a CommonJS project (package.json without "type": "module") loads and registers', async () => {
    const dir = project("cjs", { name: "my-plugins" });
    symlinkSync(join(ROOT, "node_modules", "zod"), join(dir, "node_modules", "zod"));
    writeFileSync(
      join(dir, "gate.ts"),
      'import { z } from "zod";\nimport { defineModule, type PluginRegistry } from "sdfn";\n' +
        'const same = defineModule({ name: "acme/Same", doc: "identity", params: z.object({ k: z.number().default(1) }), build: () => ({ forward: ({ tokens }) => tokens }) });\n' +
        "export function register(registry: PluginRegistry): void {\n  registry.register(\"module\", same);\n}\n",
    );
    writeFileSync(join(dir, "recipe.yaml"), `${BASE}plugins: [./gate.ts]\nfusion:\n  modules: [{ type: JRM }, { type: acme/Same, k: 2 }]\n`);
    const r = sdfnProcess(["validate", join(dir, "recipe.yaml")]);
    expect(r.err).toBe("");
    expect(r.out).toBe(`ok ${join(dir, "recipe.yaml")}\n`);
    expect(r.code).toBe(0);
    // Its params are checked like any module's.
    writeFileSync(join(dir, "bad.yaml"), `${BASE}plugins: [./gate.ts]\nfusion:\n  modules: [{ type: JRM }, { type: acme/Same, k: two }]\n`);
    const bad = sdfnProcess(["validate", join(dir, "bad.yaml")]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('fusion.modules[1].k: expected a number, got "two"');
    expect(readdirSync(dir).sort()).toEqual(["bad.yaml", "gate.ts", "node_modules", "package.json", "recipe.yaml"]);
  });
});

