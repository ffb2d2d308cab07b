// report.html's retrievals, charts of the schedule and throughput, the log-scale switch and
// the hover values: from a synthetic run directory plus a hand-made gallery.json, checked in
// the HTML and, where a browser is there, by running the page's script in headless Chromium.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeThumbnail } from "../../src/eval/thumbnails.js";
import { writeReport } from "../../src/report/index.js";
import { lineChart } from "../../src/report/svg.js";
import type { GalleryFile } from "../../src/run/gallery.js";
import { missing } from "../support/requires.js";
import { writeRunDir } from "./fixtures/run-dir.js";

const tmp = mkdtempSync(join(tmpdir(), "sdfn-gallery-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const solid = (rgb: [number, number, number]) => encodeThumbnail(Buffer.from(Array.from({ length: 16 }, () => rgb).flat()), 4, 4, 32);

async function galleryFixture(): Promise<GalleryFile> {
  const colours: Record<string, [number, number, number]> = { ref: [200, 0, 0], a: [0, 200, 0], b: [0, 0, 200], c: [200, 200, 0], t: [0, 200, 200] };
  const images = Object.fromEntries(await Promise.all(Object.entries(colours).map(async ([id, c]) => [id, await solid(c)] as const)));
  const layers = [["JRM", "GTM"], ["JRM", "GTM"]];
  const paths = [[[0.9, 0.1], [0.3, 0.7]], [[0.25], [0.75]]];
  return {
    format: 1,
    k: 3,
    layers,
    images,
    examples: [
      { set: "dress", query: 0, reference: "ref", text: "make it <green>", targets: ["b"], rank: 1, paths, top: [{ id: "a", score: 0.9, hit: false }, { id: "b", score: 0.8, hit: true }, { id: "c", score: 0.7, hit: false }] },
      { set: "dress", query: 4, reference: "ref", text: "shorter", targets: ["t"], rank: 6, paths, top: [{ id: "a", score: 0.5, hit: false }, { id: "b", score: 0.4, hit: false }, { id: "c", score: 0.3, hit: false }] },
    ],
  };
}

describe("report retrievals and charts", () => {
  const dir = writeRunDir(join(tmp, "run"));

  it("shows each example: reference, escaped text, top K with the target outlined, a miss's target, the routing path", async () => {
    writeFileSync(join(dir, "gallery.json"), JSON.stringify(await galleryFixture()));
    const html = readFileSync(await writeReport(dir), "utf8");
    const section = html.slice(html.indexOf("<h2>Retrievals</h2>"));
    const [hit, miss] = section.split('<div class="example ').slice(1);
    expect(hit).toMatch(/^hit"/);
    expect(hit).toContain("“make it &lt;green&gt;”");
    expect(hit).toContain("dress: target at rank 2");
    expect(hit!.match(/<figure/g)).toHaveLength(1 + 3); // reference + top 3
    expect(hit).toMatch(/<figure class="target"><img src="data:image\/png;base64,[^"]+" alt=""><figcaption>#2 0\.800 ✓/);
    expect(miss).toMatch(/^miss"/);
    expect(miss!.match(/<figure/g)).toHaveLength(1 + 3 + 1); // … and the target after them
    expect(miss).toContain("target (rank 7)");
    // routing: layer 1 → 2 as a grid (JRM → GTM 0.10), the output weights w
    expect(hit).toMatch(/<tr><th>1 → 2<\/th><th>JRM<\/th><th>GTM<\/th><\/tr><tr><th>JRM<\/th><td[^>]*title="0\.900">0\.90<\/td><td[^>]*title="0\.100">0\.10<\/td>/);
    expect(hit).toMatch(/output w<\/th><\/tr><tr><th>JRM<\/th><td[^>]*>0\.25<\/td><\/tr><tr><th>GTM<\/th><td[^>]*>0\.75<\/td>/);
  });

  it("charts the learning rate and the throughput, and every loss on a log scale too", () => {
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).toContain("learning rate");
    expect(html).toContain("throughput (samples/s)");
    expect(html).toContain('<input type="checkbox" id="log-losses">');
    expect(html).toContain("total loss, log scale");
  });

  it("a log-scale chart plots log10 y and labels its ticks with y", () => {
    const svg = lineChart({ title: "t", xLabel: "x", series: [{ name: "s", points: [{ x: 1, y: 1 }, { x: 2, y: 10 }, { x: 3, y: 100 }, { x: 4, y: 0 }] }], logY: true });
    expect(svg).toContain('data-values="1,0 2,1 3,2"'); // y = 0 has no logarithm: left out
    expect(svg).toMatch(/data-scale="[\d.,]+,1"/);
    for (const label of [">1<", ">10<", ">100<"]) expect(svg).toContain(label);
  });

  it.skipIf(missing("chromium"))("hovering a chart in Chromium shows the nearest point's x and value", () => {
    const html = readFileSync(join(dir, "report.html"), "utf8");
    // after the page's own script: move the mouse over the learning-rate chart's 3rd point, then print the tooltip
    const probe = `<script>
      var svg = [...document.querySelectorAll("svg.chart")].find(function (s) { return s.querySelector("title").textContent === "learning rate"; });
      var line = svg.querySelector("polyline[data-name]");
      var p = line.getAttribute("points").split(" ")[2].split(",").map(Number);
      var ctm = svg.getScreenCTM();
      svg.dispatchEvent(new MouseEvent("mousemove", { clientX: ctm.a * p[0] + ctm.e, clientY: ctm.d * p[1] + ctm.f }));
      document.body.setAttribute("data-probe", svg.querySelector(".hover text").textContent + " | " + line.getAttribute("data-values").split(" ")[2]);
    </script></body>`;
    const page = join(tmp, "hover.html");
    writeFileSync(page, html.replace("</body>", probe));
    const dom = execFileSync(
      "chromium",
      ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", `--user-data-dir=${mkdtempSync(join(tmp, "chromium-"))}`, "--window-size=1200,1600", "--dump-dom", `file://${page}`],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 60_000 },
    );
    const probeText = /data-probe="([^"]*)"/.exec(dom)?.[1] ?? "";
    const [tip, values] = probeText.split(" | ");
    const [x, y] = values!.split(",").map(Number);
    const fmt = (v: number) => (Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : String(+v.toPrecision(4)));
    expect(tip).toBe(`x ${fmt(x!)}lr ${fmt(y!)}`); // tspans: "x …" then "lr …"
  });
});
