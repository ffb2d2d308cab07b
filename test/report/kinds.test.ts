// report.html's per-edit-kind section: a recall table and one SVG heatmap per kind whose
// cells carry the mean routing weights of summary.json's `kinds`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeReport } from "../../src/report/index.js";
import { pathHeatmap } from "../../src/report/kinds.js";
import { writeRunDir } from "./fixtures/run-dir.js";

const tmp = mkdtempSync(join(tmpdir(), "sdfn-report-kinds-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const MODULES = ["JRM", "CAM", "GTM", "RCM"];
const uniform = (rows: number, cols: number) => Array.from({ length: rows }, () => new Array(cols).fill(1 / 4));
const PATH = [uniform(4, 4), [[0.7, 0.1, 0.1, 0.1], ...uniform(3, 4)], [[0.9], [0.05], [0.05], [0]]];

describe("per-kind heatmap", () => {
  it("draws one cell per weight, titled sender → receiver, shaded by the weight", () => {
    const svg = pathHeatmap("move (12)", PATH, MODULES);
    expect(svg.match(/<rect /g)).toHaveLength(16 + 16 + 4);
    expect(svg).toContain("<title>2→3 JRM → JRM: 0.700</title>");
    expect(svg).toContain("<title>w JRM: 0.900</title>");
    // full weight is the darkest fill, zero the faintest
    expect(svg).toMatch(/fill="rgba\(78,121,167,0\.080\)"><title>w RCM: 0\.000<\/title>/);
    expect(svg).toMatch(/fill="rgba\(78,121,167,0\.908\)"><title>w JRM: 0\.900<\/title>/);
    for (const m of MODULES) expect(svg).toContain(`>${m}</text>`);
  });

  it("shows the section in report.html when summary.json has kinds, and not otherwise", async () => {
    const plain = readFileSync(await writeReport(writeRunDir(join(tmp, "plain"))), "utf8");
    expect(plain).not.toContain("Per edit kind");
    const dir = writeRunDir(join(tmp, "kinds"));
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    summary.kinds = {
      shapes: {
        recolor: { queries: 20, recall: { "R@1": 10, "R@10": 55 }, path: PATH },
        move: { queries: 12, recall: { "R@1": 0, "R@10": 25 }, path: PATH },
      },
    };
    writeFileSync(join(dir, "summary.json"), JSON.stringify(summary));
    const html = readFileSync(await writeReport(dir), "utf8");
    expect(html).toContain("<h2>Per edit kind</h2>");
    expect(html).toMatch(/<tr><td>recolor<\/td><td>20<\/td><td>10\.00<\/td><td>55\.00<\/td><\/tr>/);
    expect(html).toMatch(/<tr><td>move<\/td><td>12<\/td><td>0\.00<\/td><td>25\.00<\/td><\/tr>/);
    expect(html.match(/<svg class="heatmap"/g)).toHaveLength(2);
    expect(html).toContain('aria-label="move (12) routing"');
  });
});
