// Recall@K with K at or beyond the evaluation gallery's size would count every query as found:
// a recipe problem at its evaluation.recall_at entry, from `sdfn validate` where the params fix
// the gallery (shapes) and from `sdfn build` when the dataset opens (annotation files), exit 2,
// no run directory left behind.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdfn as cli } from "../support/cli.js";
import { createRegistry } from "../../src/builtins.js";
import { loadDatasetSource } from "../../src/data/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const QUICKSTART = join(ROOT, "recipes/quickstart.yaml");
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "sdfn-recall-gallery-"));
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** 1-based line and column of the `nth` occurrence of `token` on the first line containing `lineHas`. */
async function placeOf(file: string, lineHas: string, token: string): Promise<string> {
  const lines = (await readFile(file, "utf8")).split("\n");
  const i = lines.findIndex((l) => l.includes(lineHas));
  expect(i, `${file} has a line with ${lineHas}`).toBeGreaterThanOrEqual(0);
  return `${i + 1}:${lines[i]!.indexOf(token, lines[i]!.indexOf(lineHas)) + 1}`;
}

describe("Recall@K beyond the gallery", () => {
  it("shapes: the params bound the gallery, so `sdfn validate` locates R@50 over a 4 × 4 gallery", async () => {
    const sets = ["data.test_references=4", "data.test_edits=4"].flatMap((s) => ["--set", s]);
    const r = await cli("validate", QUICKSTART, ...sets);
    expect(r.code).toBe(2);
    // quickstart's recall_at is [1, 10, 50]; 4 × 4 = 16 targets at most: 50 (not 10) is the problem.
    const at = await placeOf(QUICKSTART, "recall_at:", "50");
    expect(r.err).toBe(
      `${relative(process.cwd(), QUICKSTART)}:${at}: error: evaluation.recall_at[2]: R@50 is not below the gallery size: ` +
        `the evaluation gallery "shapes" holds at most 16 images, so every query would count as found (100 %); use K < 16, or enlarge the gallery\n`,
    );
    // The same recipe with a bigger gallery is valid.
    expect((await cli("validate", QUICKSTART, "--set", "data.test_edits=4")).code).toBe(0); // 32 × 4 = 128
  });

  it("shapes: `sdfn build` refuses it before a run directory exists", async () => {
    const out = join(work, "shapes-run");
    const r = await cli("build", QUICKSTART, "--set", "data.test_references=2", "--set", "data.test_edits=2", "--out", out, "--log", "plain");
    expect(r.code).toBe(2);
    expect(r.err).toContain("error: evaluation.recall_at[1]: R@10 is not below the gallery size");
    expect(r.err).toContain("error: evaluation.recall_at[2]: R@50");
    expect(existsSync(out)).toBe(false);
  });

  it("fashion200k: the gallery is known once the annotation files are read; build refuses at open, at the recipe's entry, leaving nothing", async () => {
    const root = join(work, "f200k");
    await cp(join(ROOT, "test/fixtures/fashion200k"), root, { recursive: true });
    const registry = createRegistry();
    const { source } = await loadDatasetSource({ seed: 0, data: { dataset: "fashion200k", root, categories: ["dress"] } }, registry);
    expect(source.evalSets[0]!.gallery).toHaveLength(5); // the fixture's test gallery
    for (const f of source.missing) {
      await mkdir(dirname(f), { recursive: true });
      await writeFile(f, ""); // present; nothing is decoded before the check
    }
    const recipe = join(work, "f200k.yaml");
    await writeFile(
      recipe,
      [
        `extends: ${join(ROOT, "recipes/sdfn-fashion200k.yaml")}`,
        `encoders: { image: { weights: null }, text: { glove: null } }   # from scratch: no pretrained files here`,
        `data: { root: ${root}, categories: [dress] }`,
        `evaluation:`,
        `  recall_at: [1, 4, 5, 10]`,
        ``,
      ].join("\n"),
    );
    // Valid on its own: validation cannot know the gallery of files it does not read.
    expect((await cli("validate", recipe)).code).toBe(0);
    const out = join(work, "f200k-run");
    const r = await cli("build", recipe, "--out", out, "--log", "plain", "--backend", "cpu");
    expect(r.code).toBe(2);
    const shown = recipe; // outside the working directory: shown absolute
    const [five, ten] = [await placeOf(recipe, "recall_at", "5"), await placeOf(recipe, "recall_at", "10")];
    expect(r.err).toBe(
      `${shown}:${five}: error: evaluation.recall_at[2]: R@5 is not below the gallery size: the evaluation gallery "fashion200k" holds 5 images, ` +
        `so every query would count as found (100 %); use K < 5, or enlarge the gallery\n` +
        `${shown}:${ten}: error: evaluation.recall_at[3]: R@10 is not below the gallery size: the evaluation gallery "fashion200k" holds 5 images, ` +
        `so every query would count as found (100 %); use K < 5, or enlarge the gallery\n`,
    );
    expect(existsSync(out)).toBe(false);
  });
});
