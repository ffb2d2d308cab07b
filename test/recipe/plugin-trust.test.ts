// Plugins are code: they run only once the recipe validates without them, and every command takes
// --no-plugins. A plugin here writes a marker file when imported, so a test sees whether it ran.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, sdfn } from "../support/cli.js";

let dir: string;
let marker: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sdfn-plugin-trust-"));
  marker = join(dir, "ran");
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(join(ROOT, "node_modules", "zod"), join(dir, "node_modules", "zod"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(
    join(dir, "mark.ts"),
    `import { writeFileSync } from "node:fs";\nimport { z } from "zod";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\n` +
      'const same = { name: "acme/Same", doc: "identity", params: z.object({}), build: () => ({ forward: ({ tokens }: { tokens: unknown }) => tokens }) };\n' +
      'export function register(registry: { register(kind: string, d: unknown): void }): void {\n  registry.register("module", same);\n}\n',
  );
  const recipe = (extra: string) => `extends: ${join(ROOT, "recipes/quickstart.yaml")}
plugins: [./mark.ts]
fusion:
  modules: [{ type: JRM, heads: 2 }, { type: acme/Same }]
${extra}`;
  writeFileSync(join(dir, "invalid.yaml"), recipe("training: { epochs: -1 }\n"));
  writeFileSync(join(dir, "valid.yaml"), recipe(""));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("plugins run only after the recipe validates", () => {
  it.each([
    ["validate", []],
    ["render", []],
    ["data", []],
    ["build", ["--dry-run"]],
    ["sweep", ["--dry-run"]],
  ])("%s of an invalid recipe: exit 2 at its own problem, the plugin not run", async (command, flags) => {
    const r = await sdfn(command, join(dir, "invalid.yaml"), ...flags);
    expect(r.code).toBe(2);
    expect(r.err).toContain("invalid.yaml:5:21: error: training.epochs: must be >= 1, got -1");
    expect(r.err).not.toContain("acme/Same"); // its name is not reported: its plugin has not run yet
    expect(existsSync(marker)).toBe(false);
  });

  it("--no-plugins: a valid recipe that needs its plugin says so (exit 2), and nothing runs", async () => {
    const r = await sdfn("render", join(dir, "valid.yaml"), "--no-plugins");
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `${join(dir, "valid.yaml")}:4:46: error: "acme/Same" comes from a plugin, and --no-plugins runs none (listed: ${join(dir, "mark.ts")}); drop --no-plugins to run them (plugins are code: only for a recipe you trust)\n`,
    );
    expect((await sdfn("render", join(dir, "valid.yaml"), "--no-plugins", "--plugin", join(dir, "mark.ts"))).err).toBe(
      "error: --plugin and --no-plugins contradict each other: give one of them\n",
    );
    expect(existsSync(marker)).toBe(false);
  });

  it("a valid recipe runs its plugin (the marker works)", async () => {
    const r = await sdfn("validate", join(dir, "valid.yaml"));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });
});

describe("every command takes --no-plugins, and its help says whether it runs plugin code", () => {
  const commands = ["build", "eval", "query", "index", "serve", "export", "validate", "render", "modules", "schema", "data", "report", "sweep", "compare", "doctor"];
  it.each(commands)("%s --help", async (command) => {
    const r = await sdfn(command, "--help");
    expect(r.code).toBe(0);
    expect(r.out).toContain("--no-plugins");
    const runsPlugins = !["report", "compare", "doctor"].includes(command);
    expect(/Runs plugin code|Plugins are code/.test(r.out), r.out).toBe(runsPlugins);
    if (!runsPlugins) expect(r.out).toContain("this one never runs plugin code");
  });

  it("sdfn --help lists every command (none left out above)", async () => {
    const r = await sdfn("--help");
    const listed = r.out.slice(r.out.indexOf("Commands:"), r.out.indexOf("Start here:")).match(/^ {2}[a-z]+/gm)!.map((c) => c.trim());
    expect(listed.sort()).toEqual([...commands].sort());
  });
});
