// The one way sdfn writes its own files (src/io/owned-files.ts), and every run-directory writer
// going through it: a symbolic link where a file is replaced is replaced itself (its target never
// changes), an append or a folder through a link is refused naming it, a killed writer's temporary
// files are found by their PID.
import { spawn } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildVocabulary, saveVocabulary } from "../../src/data/vocabulary.js";
import { appendToFile, ownedDir, removeStaleTemps, replaceFile, tempOwner } from "../../src/io/owned-files.js";
import { writeReport } from "../../src/report/index.js";
import { writeUnit } from "../../src/run/checkpoint-unit.js";
import { RunDir } from "../../src/run/run-dir.js";

const scratch = mkdtempSync(join(tmpdir(), "sdfn-owned-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
/** A fresh folder, and a file outside it that links will point at. */
function setup(): { dir: string; outside: string } {
  const dir = join(scratch, `d${dirs++}`);
  mkdirSync(dir);
  const outside = join(scratch, `outside${dirs}`);
  writeFileSync(outside, "keep\n");
  return { dir, outside };
}
const LINK = "it is a symbolic link, and sdfn never writes its files through one; remove the link";

describe("owned files", () => {
  it("replaceFile writes the whole file through a temporary name and leaves none behind", () => {
    const { dir } = setup();
    const file = join(dir, "summary.json");
    writeFileSync(file, "old, longer text\n");
    replaceFile(file, "new\n");
    expect(readFileSync(file, "utf8")).toBe("new\n");
    expect(readdirSync(dir)).toEqual(["summary.json"]);
  });

  it("replaceFile over a symbolic link replaces the link with the file; the link's target is untouched", () => {
    const { dir, outside } = setup();
    const file = join(dir, "summary.json");
    symlinkSync(outside, file);
    replaceFile(file, "new\n");
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
    expect(readFileSync(file, "utf8")).toBe("new\n");
    expect(readFileSync(outside, "utf8")).toBe("keep\n");
  });

  it("appendToFile refuses a symbolic link, naming it; a plain file is appended to", () => {
    const { dir, outside } = setup();
    const file = join(dir, "metrics.jsonl");
    appendToFile(file, "a\n");
    appendToFile(file, "b\n");
    expect(readFileSync(file, "utf8")).toBe("a\nb\n");
    const link = join(dir, "link.jsonl");
    symlinkSync(outside, link);
    expect(() => appendToFile(link, "c\n")).toThrow(`cannot append to ${link}: ${LINK}`);
    expect(readFileSync(outside, "utf8")).toBe("keep\n");
  });

  it("ownedDir creates a folder and refuses one that is a symbolic link", () => {
    const { dir } = setup();
    expect(ownedDir(join(dir, "a", "b"))).toBe(join(dir, "a", "b"));
    const elsewhere = join(scratch, `elsewhere${dirs}`);
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(dir, "checkpoints"));
    expect(() => ownedDir(join(dir, "checkpoints"))).toThrow(`cannot write into ${join(dir, "checkpoints")}: ${LINK}`);
  });

  it("removeStaleTemps removes a dead writer's and this process's leftovers, keeps a live writer's and every other name", async () => {
    const { dir } = setup();
    const dead = spawn(process.execPath, ["-e", "0"]);
    await new Promise((r) => dead.on("exit", r));
    const names = [`.last.tmp-${dead.pid}`, `report.html.tmp-${dead.pid}`, `gallery.json.tmp-${process.pid}`, `summary.json.tmp-${process.ppid}`, "metrics.jsonl", "notes.tmp-x"];
    for (const n of names) writeFileSync(join(dir, n), "");
    expect(tempOwner(`report.html.tmp-${dead.pid}`)).toBe(dead.pid);
    expect(removeStaleTemps(dir).sort()).toEqual([`.last.tmp-${dead.pid}`, `gallery.json.tmp-${process.pid}`, `report.html.tmp-${dead.pid}`]);
    expect(readdirSync(dir).sort()).toEqual(["metrics.jsonl", "notes.tmp-x", `summary.json.tmp-${process.ppid}`]);
  });
});

describe("every run-directory writer goes through them", () => {
  it("recipe.resolved.yaml, summary.json, vocabulary.json and report.html replace a link; metrics.jsonl refuses one", async () => {
    const { dir, outside } = setup();
    const run = new RunDir(dir);
    for (const file of [run.recipe, run.summary, run.vocabulary, run.report]) symlinkSync(outside, file);
    run.open("name: x\n");
    await saveVocabulary(buildVocabulary(["make it red"]), run.vocabulary);
    const sink = run.sink(() => {});
    sink({ type: "warning", time: 0, message: "first" });
    sink({ type: "end", time: 1, summary: { status: "completed" } });
    await writeReport(dir);
    for (const file of [run.recipe, run.summary, run.vocabulary, run.report]) expect(lstatSync(file).isSymbolicLink(), file).toBe(false);
    expect(readFileSync(outside, "utf8")).toBe("keep\n");
    expect(readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);

    rmSync(run.metrics);
    symlinkSync(outside, run.metrics);
    expect(() => sink({ type: "warning", time: 2, message: "again" })).toThrow(`cannot append to ${run.metrics}: ${LINK}`);
    expect(readFileSync(outside, "utf8")).toBe("keep\n");
  });

  it("a checkpoint is never written into a checkpoints/ that is a link", async () => {
    const { dir } = setup();
    const elsewhere = join(scratch, `ckpt-elsewhere${dirs}`);
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(dir, "checkpoints"));
    await expect(writeUnit(join(dir, "checkpoints"), "last", async (tmp) => writeFileSync(join(tmp, "meta.json"), "{}"))).rejects.toThrow(
      `cannot write into ${join(dir, "checkpoints")}: ${LINK}`,
    );
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(existsSync(join(dir, "checkpoints", "last"))).toBe(false);
  });
});
