// report.html from a synthetic run directory: content, self-containment,
// the series it plots, `sdfn report`, and a headless Chromium screenshot.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it, vi } from "vitest";
import { missing } from "../support/requires.js";
import { command } from "../../src/cli/commands/report.js";
import { UsageError } from "../../src/cli/command.js";
import { writeReport } from "../../src/report/index.js";
import { routingCharts, uniqueSteps } from "../../src/report/series.js";
import type { TrainEvent } from "../../src/train/events.js";
import { LAYERS, runInfo, stepEvent, syntheticRun, T0 } from "../cli/render/fixtures/events.js";
import { writeRunDir } from "./fixtures/run-dir.js";

const tmp = mkdtempSync(join(tmpdir(), "sdfn-report-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("report series", () => {
  it("averages routing per module over parts of an epoch (short runs) and labels the rows", () => {
    const info = runInfo({ epochs: 2, stepsPerEpoch: 12 });
    const steps = [];
    for (let e = 0; e < 2; e++)
      for (let s = 0; s < 12; s++) {
        const ev = stepEvent(e, s, info, T0 + s);
        const a = (e * 12 + s) / 100; // JRM's weight in row 0
        steps.push({ ...ev, routing: [[a, 0.5 - a, 0.25, 0.25], ...ev.routing.slice(1)] });
      }
    const charts = routingCharts(steps, LAYERS);
    expect(charts.map((c) => c.label)).toEqual(["into L2", "into L3", "out w (L3)"]);
    // 2 epochs → 6 parts per epoch of 2 steps each; x = epochs done at each part's end.
    const jrm = charts[0].series[0];
    expect(jrm.name).toBe("JRM");
    expect(jrm.points).toHaveLength(12);
    expect(jrm.points[0].x).toBeCloseTo(1 / 6, 9);
    expect(jrm.points[0].y).toBeCloseTo((0 + 0.01) / 2, 9);
    expect(jrm.points[11].x).toBeCloseTo(2, 9);
    expect(jrm.points[11].y).toBeCloseTo((0.22 + 0.23) / 2, 9);
  });

  it("keeps each step once after a resume (the later event wins)", () => {
    const info = runInfo();
    const a = stepEvent(0, 3, info, T0);
    const again = { ...a, time: T0 + 99, total: 42 };
    const steps = uniqueSteps([stepEvent(0, 2, info, T0), a, stepEvent(0, 4, info, T0), again] as TrainEvent[]);
    expect(steps.map((s) => [s.step, s.total === 42])).toEqual([
      [2, false],
      [3, true],
      [4, false],
    ]);
  });
});

describe("writeReport", () => {
  const dir = writeRunDir(join(tmp, "run"));

  it("writes one self-contained page with loss, recall and routing charts and the recipe", async () => {
    const file = await writeReport(dir);
    expect(file).toBe(join(dir, "report.html"));
    const html = readFileSync(file, "utf8");
    // 3 loss components + total (each linear and log), lr and throughput, 4 recall groups, 3 routing rows.
    expect(html.match(/<svg /g)).toHaveLength(2 * 4 + 2 + 4 + 3);
    for (const title of ["batch_classification (weighted)", "total loss", "dress recall (%)", "avg recall (%)", "weight each module of layer L2 receives", "output weights w over layer 3"])
      expect(html).toContain(title);
    // Nothing to fetch: one inline script, no src/href, no CSS url(), no @import.
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script[^>]*\ssrc=|\ssrc=|\shref=|url\(|@import/i);
    // The recipe is there, escaped.
    expect(html).toContain("a comment with &lt;markup&gt; &amp; &quot;quotes&quot;");
    expect(html).not.toContain("<markup>");
    // The best evaluation (epoch 2) is starred in the table.
    expect(html).toMatch(/<tr class="best"><td>★ 2<\/td><td>15\.00<\/td>/);
  });

  it("shows the references (chance, single-modality baselines) under the model's recall rows", async () => {
    const events = syntheticRun(runInfo({ epochs: 2, stepsPerEpoch: 5 })).map((e) =>
      e.type === "evaluation" ? { ...e, baselines: { "text only": { "avg/R@10": 30.1 }, chance: { "avg/R@10": 0.98 } } } : e,
    );
    const html = readFileSync(await writeReport(writeRunDir(join(tmp, "with-baselines"), events)), "utf8");
    expect(html).toMatch(/<tr class="baseline"><td>text only<\/td>(<td>[^<]*<\/td>)*<td>30\.10<\/td>/);
    expect(html).toMatch(/<tr class="baseline"><td>chance<\/td>/);
    expect(html).toContain("Against the references (last evaluation): R@10 ");
    expect(html).toMatch(/R@10 \d+ · text only 30 · chance 1\.0\./);
  });

  it("reports a run still in progress: no summary yet, a torn last line skipped and named", async () => {
    const partial = join(tmp, "partial");
    const events = syntheticRun(runInfo({ epochs: 2, stepsPerEpoch: 5 })).slice(0, 7); // start, 5 steps, epoch
    mkdirSync(partial);
    writeFileSync(join(partial, "metrics.jsonl"), `${events.map((e) => JSON.stringify(e)).join("\n")}\n{"type":"st`);
    const html = readFileSync(await writeReport(partial), "utf8");
    expect(html.match(/<svg /g)).toHaveLength(2 * 4 + 2 + 3); // losses (linear, log), lr, throughput and routing; no evaluation yet
    expect(html).toContain("No evaluation recorded.");
    expect(html).toContain("Skipped unreadable lines of metrics.jsonl: 8.");
    expect(html).toContain("recipe.resolved.yaml is missing.");
  });

  it("refuses a directory without metrics.jsonl with a usage error (exit 2 in the CLI)", async () => {
    await expect(command.run([join(tmp, "nothing")])).rejects.toThrow(UsageError);
    await expect(command.run([join(tmp, "nothing")])).rejects.toThrow(/no metrics\.jsonl here; give a run directory written by `sdfn build`/);
  });

  it("`sdfn report RUN_DIR` writes report.html and prints its path", async () => {
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(await command.run([dir])).toBe(0);
      expect(write).toHaveBeenCalledWith(`${join(dir, "report.html")}\n`);
    } finally {
      write.mockRestore();
    }
  });

  it.skipIf(missing("chromium"))("renders in headless Chromium: the screenshot is not blank and shows the chart colours", async () => {
    const file = await writeReport(dir);
    const png = join(tmp, "report.png");
    execFileSync(
      "chromium",
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${mkdtempSync(join(tmp, "chromium-"))}`,
        "--window-size=1200,1600",
        `--screenshot=${png}`,
        `file://${file}`,
      ],
      { stdio: "ignore", timeout: 60_000 },
    );
    expect(existsSync(png) && statSync(png).size > 0).toBe(true);
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([1200, 1600]);
    const colours = new Set<number>();
    let blue = 0; // the first series' colour, #4e79a7
    let orange = 0; // the second's, #f28e2b
    for (let i = 0; i < data.length; i += 3) {
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
      colours.add((r << 16) | (g << 8) | b);
      if (Math.abs(r - 0x4e) + Math.abs(g - 0x79) + Math.abs(b - 0xa7) < 30) blue++;
      if (Math.abs(r - 0xf2) + Math.abs(g - 0x8e) + Math.abs(b - 0x2b) < 30) orange++;
    }
    expect(colours.size).toBeGreaterThan(50);
    expect(blue).toBeGreaterThan(200);
    expect(orange).toBeGreaterThan(100);
  });
});
