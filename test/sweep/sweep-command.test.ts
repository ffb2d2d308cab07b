// `sdfn sweep` end to end on the tiny recipe: 2 variants × 2 seeds as run directories, one
// line per run; run again: every run skipped; an interrupted run resumed and a run without a
// checkpoint started over; `sdfn compare` reads the sweep back (values = the runs' summaries).
import * as tf from "@tensorflow/tfjs";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sdfn } from "../support/cli.js";
import { missing, PYTHON } from "../support/requires.js";

tf.env().set("IS_TEST", true);

const TINY = join(import.meta.dirname, "..", "train", "fixtures", "tiny.yaml");
const work = mkdtempSync(join(tmpdir(), "sdfn-sweep-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));


const sweepDir = join(work, "sweep");
const args = [TINY, "--grid", "fusion.router.type=[static,msr]", "--seeds", "2", "--set", "training.epochs=1", "--out", sweepDir, "--log", "plain"];
const ids = ["type-static/seed-0", "type-static/seed-1", "type-msr/seed-0", "type-msr/seed-1"];
const summary = (id: string) => JSON.parse(readFileSync(join(sweepDir, id, "summary.json"), "utf8"));

describe("sdfn sweep", () => {
  it("trains every variant × seed as an ordinary run directory, one end line per run", async () => {
    const r = await sdfn("sweep", ...args);
    expect(r.code, r.err).toBe(0);
    for (const id of ids) {
      expect(summary(id).status).toBe("completed");
      expect(existsSync(join(sweepDir, id, "report.html"))).toBe(true);
    }
    expect(summary("type-msr/seed-1").recipe_hash).not.toBe(summary("type-msr/seed-0").recipe_hash); // seed=1 is part of the recipe
    const recipe = readFileSync(join(sweepDir, "type-static/seed-1", "recipe.resolved.yaml"), "utf8");
    expect(recipe).toMatch(/^seed: 1$/m);
    expect(recipe).toMatch(/type: static/);
    const ends = r.out.split("\n").filter((l) => /^\[\d\/4\] .*completed/.test(l));
    expect(ends.map((l) => l.split(/\s+/)[1])).toEqual(ids);
    expect(r.out).toMatch(/sweep completed \(4 trained, 0 finished earlier\)/);
  });

  it.skipIf(missing("pythonTorch"))("every run also wrote a TensorBoard event file with its evaluation", () => {
    const dir = join(sweepDir, ids[2]!);
    const [file, ...more] = readdirSync(dir).filter((f) => f.startsWith("events.out.tfevents."));
    expect(more).toEqual([]);
    const r = spawnSync(PYTHON, [join(import.meta.dirname, "..", "run", "read_tfevents.py"), join(dir, file!)], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const events = JSON.parse(r.stdout) as { step: number; values?: Record<string, number> }[];
    const evaluation = events.find((e) => e.values && "eval/shapes/R@5" in e.values)!;
    expect(evaluation.values!["eval/shapes/R@5"]).toBe(Math.fround(summary(ids[2]!).metrics["shapes/R@5"]));
    expect(events.filter((e) => e.values && "loss/total" in e.values).length).toBe(summary(ids[2]!).steps);
  });

  it("run again: finished runs are skipped, an interrupted one resumes, one without a checkpoint starts over", async () => {
    const untouched = statSync(join(sweepDir, ids[0]!, "summary.json")).mtimeMs;
    // interrupted after its last checkpoint: the summary says so
    writeFileSync(join(sweepDir, ids[1]!, "summary.json"), JSON.stringify({ ...summary(ids[1]!), status: "interrupted" }));
    // stopped before its first checkpoint: only a partial metrics file
    rmSync(join(sweepDir, ids[3]!), { recursive: true });
    const r = await sdfn("sweep", "--resume", sweepDir, "--log", "plain");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\[1\/4\] type-static\/seed-0 {2}finished earlier/);
    expect(r.out).toMatch(/\[2\/4\] type-static\/seed-1 {2}resuming/);
    expect(r.out).toMatch(/\[4\/4\] type-msr\/seed-1 {2}starting/);
    expect(r.out).toMatch(/sweep completed \(2 trained, 2 finished earlier\)/);
    expect(statSync(join(sweepDir, ids[0]!, "summary.json")).mtimeMs).toBe(untouched);
    expect(summary(ids[1]!).status).toBe("completed");
    expect(summary(ids[3]!).status).toBe("completed");
  });

  it("refuses another plan in the same directory and a bad grid, exit 2, nothing written", async () => {
    const other = await sdfn("sweep", TINY, "--grid", "fusion.router.type=[shared]", "--out", sweepDir);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/holds another sweep/);
    const bad = await sdfn("sweep", TINY, "--grid", "fusion.router.type=static", "--out", join(work, "bad"));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/expected KEY=\[VALUE,VALUE,…\]/);
    const invalid = await sdfn("sweep", TINY, "--grid", "fusion.router.type=[static,nonsense]", "--out", join(work, "invalid"));
    expect(invalid.code).toBe(2);
    expect(invalid.err).toMatch(/variant type-nonsense/);
    expect(existsSync(join(work, "bad"))).toBe(false);
    expect(existsSync(join(work, "invalid"))).toBe(false);
  });
});

describe("sdfn compare", () => {
  it("one row per variant with mean ± std of the runs' own metrics; JSON, Markdown, HTML", async () => {
    const r = await sdfn("compare", sweepDir, "--json");
    expect(r.code, r.err).toBe(0);
    const table = JSON.parse(r.out);
    expect(table.rows.map((row: { variant: string }) => row.variant)).toEqual(["type-static", "type-msr"]);
    expect(table.columns).toEqual(["shapes/R@1", "shapes/R@5", "shapes/mean"]);
    const values = [summary("type-msr/seed-0").metrics["shapes/R@5"], summary("type-msr/seed-1").metrics["shapes/R@5"]];
    const cell = table.rows[1].cells["shapes/R@5"];
    expect(cell.values).toEqual(values);
    expect(cell.mean).toBeCloseTo((values[0] + values[1]) / 2, 10);
    expect(cell.std).toBeCloseTo(Math.abs(values[0] - values[1]) / Math.SQRT2, 10);
    const md = await sdfn("compare", sweepDir, "--markdown", "--html", join(work, "compare.html"));
    expect(md.out.split("\n")[0]).toBe("| variant | seeds | shapes/R@1 | shapes/R@5 | shapes/mean |");
    const html = readFileSync(join(work, "compare.html"), "utf8");
    expect(html).toContain("total loss (mean over seeds)");
    expect((html.match(/<svg /g) ?? []).length).toBe(4); // loss + one chart per column
    expect(html).not.toMatch(/<script[^>]+src=|<link|<img[^>]+src="http/); // one file, nothing fetched
  });

  it("says what it wants for a directory that is neither a run nor a sweep", async () => {
    const r = await sdfn("compare", work);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/neither a sweep \(sweep\.json\) nor a run directory/);
    expect(readdirSync(sweepDir)).toContain("sweep.json");
  });
});

describe("sdfn query on a run of the sweep", () => {
  const run = () => join(sweepDir, ids[2]!);

  it("--list gives evaluation queries; --json ranks one of them, its target marked; --html writes the page", async () => {
    const listed = await sdfn("query", run(), "--list", "-k", "2", "--json");
    expect(listed.code, listed.err).toBe(0);
    const list = JSON.parse(listed.out) as { set: string; reference: string; text: string; targets: string[] }[];
    expect(list).toHaveLength(2);
    const [first] = list;
    const page = join(work, "query.html");
    const r = await sdfn("query", run(), "--image", first!.reference, "--text", first!.text, "-k", "4", "--json", "--html", page);
    expect(r.code, r.err).toBe(0);
    const ranked = JSON.parse(r.out);
    expect(ranked.targets).toEqual(first!.targets);
    expect(ranked.top.map((t: { rank: number }) => t.rank)).toEqual([1, 2, 3, 4]);
    const scores = ranked.top.map((t: { score: number }) => t.score);
    expect(scores).toEqual([...scores].sort((a: number, b: number) => b - a));
    const html = readFileSync(page, "utf8");
    expect(html.match(/<figure/g)!.length).toBeGreaterThanOrEqual(1 + 4);
    expect(html).toMatch(/<img src="data:image\/png;base64,/);
    expect(html).toContain("output w");
  });

  it("the run's report shows its retrieval gallery", () => {
    const gallery = JSON.parse(readFileSync(join(run(), "gallery.json"), "utf8"));
    expect(gallery.examples.length).toBeGreaterThan(0);
    const html = readFileSync(join(run(), "report.html"), "utf8");
    expect(html).toContain("<h2>Retrievals</h2>");
    expect(html.match(/<div class="example (hit|miss)">/g)).toHaveLength(gallery.examples.length);
  });
});
