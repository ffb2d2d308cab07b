// The web page of `sdfn serve` in a real browser (Debian's chromium, driven by playwright-core):
// it lists the catalogue, takes an uploaded photo and a picked catalogue item with a text, shows
// the top K whose first result is the JSON API's, and draws the routing path per layer.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIndex, datasetCatalogue } from "../../src/catalogue/build.js";
import { openIndex, type CatalogueIndex } from "../../src/catalogue/search.js";
import { openRun, type RunModel } from "../../src/infer/model.js";
import { startServer, type RunningServer } from "../../src/serve/server.js";
import { photo, trainTiny } from "../catalogue/helpers.js";
import { missing } from "../support/requires.js";

tf.env().set("IS_TEST", true);

describe.skipIf(missing("chromium"))("the web page in headless chromium", () => {
  const scratch = mkdtempSync(join(tmpdir(), "sdfn-page-"));
  let model: RunModel;
  let index: CatalogueIndex;
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    const run = await trainTiny(join(scratch, "run"));
    model = await openRun(run);
    await buildIndex(model, await datasetCatalogue(model, "shapes"), { out: join(scratch, "index") });
    index = openIndex(join(scratch, "index"), model);
    server = await startServer({ model, index, port: 0, host: "127.0.0.1", maxBatch: 8, maxUploadBytes: 1_000_000, approximate: false });
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    index?.close();
    model?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const apiTop = async (fields: Record<string, string | Blob>) => {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) f.append(k, v);
    const body = (await (await fetch(`${server.url}/query`, { method: "POST", body: f })).json()) as { results: { id: string }[] };
    return body.results.map((r) => r.id);
  };

  it("an uploaded photo and a text: the results render, the first is the JSON API's, the path has a table per layer", async () => {
    const file = join(scratch, "mine.png");
    writeFileSync(file, await photo(5));
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForSelector("#picker img");
    expect(await page.locator("#picker img").count()).toBe(16);
    await page.click("#tab-photo");
    await page.setInputFiles("#file", file);
    await page.fill("#text", "make the blue circle red");
    await page.fill("#k", "5");
    await page.click("#search");
    await page.waitForSelector("#results .result");
    const shown = await page.locator("#results .result").evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.id!));
    const api = await apiTop({ image: new Blob([new Uint8Array(await photo(5))], { type: "image/png" }), text: "make the blue circle red", k: "5" });
    expect(shown).toEqual(api);
    expect(await page.locator("table.path").count()).toBe(2);
    expect(await page.locator("table.path").first().locator("th").allTextContents()).toEqual(["JRM", "CAM", "GTM", "RCM", "JRM", "CAM", "GTM", "RCM"]);
    // every result's thumbnail loaded
    expect(await page.locator("#results img").evaluateAll((els) => els.every((e) => (e as HTMLImageElement).naturalWidth > 0))).toBe(true);
    await page.close();
  });

  it("a picked catalogue item, and an error naming the field", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.click('#picker img[data-id="test/0/2/1"]');
    await page.fill("#text", "remove the triangle");
    await page.click("#search");
    await page.waitForSelector("#results .result");
    const first = await page.locator("#results .result").first().getAttribute("data-id");
    expect(first).toBe((await apiTop({ item: "test/0/2/1", text: "remove the triangle", k: "10" }))[0]);
    await page.fill("#k", "0");
    await page.click("#search");
    await expect.poll(() => page.locator("#error").textContent()).toContain("k: must be an integer from 1 to 15");
    await page.close();
  });
});
