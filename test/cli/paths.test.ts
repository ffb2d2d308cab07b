// Every path sdfn prints is absolute, whatever form it was given in (here: relative to the
// working directory), so it can be copied into another shell or directory.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sdfn } from "../support/cli.js";

const work = mkdtempSync(join(tmpdir(), "sdfn-paths-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const rel = (p: string) => relative(process.cwd(), p);
const TINY = join(import.meta.dirname, "../train/fixtures/tiny.yaml");

describe("printed paths are absolute", () => {
  it("sdfn report: the report it wrote, and a directory that is not a run", async () => {
    const run = join(work, "run");
    mkdirSync(run);
    const info = { recipeName: "tiny", runDir: run, backend: "cpu", device: "cpu", parameters: 1, epochs: 1, stepsPerEpoch: 1, batchSize: 1, layers: [["GTM"]], losses: ["x"], startEpoch: 1, epochsFrom: 1 };
    writeFileSync(join(run, "metrics.jsonl"), `${JSON.stringify({ type: "start", time: 0, info })}\n`);
    expect(rel(run).startsWith("/")).toBe(false); // given relative
    const r = await sdfn("report", rel(run));
    expect(r).toMatchObject({ code: 0, out: `${join(run, "report.html")}\n` });

    const empty = join(work, "empty");
    mkdirSync(empty);
    const bad = await sdfn("report", rel(empty));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(`error: ${empty}: no metrics.jsonl here`);
  });

  it("sdfn sweep --dry-run: the sweep directory", async () => {
    const out = join(work, "sweep");
    const r = await sdfn("sweep", TINY, "--grid", "fusion.router.type=[static,msr]", "--out", rel(out), "--dry-run");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`2 runs in ${out}; --dry-run: nothing trained or written\n`);
  });
});
