// examples/retrieve.mjs runs with plain `node` against the built package (dist/, through the
// package's own name: `import … from "sdfn"`), and prints what the library gives in this process.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIndex, imageCatalogue } from "../../src/catalogue/build.js";
import { openIndex } from "../../src/catalogue/search.js";
import { openRun } from "../../src/infer/model.js";
import { ROOT } from "../support/cli.js";
import { trainTiny, writePhotos } from "../catalogue/helpers.js";

tf.env().set("IS_TEST", true);

const scratch = mkdtempSync(join(tmpdir(), "sdfn-example-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const run = join(scratch, "run");
const index = join(scratch, "photos.index");
const photos = join(scratch, "photos");

/** The newest modification time of a file under `dir`. */
const newest = (dir: string): number =>
  Math.max(...readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => statSync(join(e.parentPath, e.name)).mtimeMs));

/** dist/ as `npm install` (the prepare step) builds it; rebuilt when a source is newer (a checkout being edited). */
function builtPackage(): void {
  const dist = join(ROOT, "dist", "index.js");
  const fresh = existsSync(dist) && readFileSync(dist, "utf8").includes("openIndex") && statSync(dist).mtimeMs >= newest(join(ROOT, "src"));
  if (fresh) return;
  const r = spawnSync(process.execPath, [join(ROOT, "scripts", "build-dist.mjs")], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`npm run build failed: ${r.stderr}`);
}

beforeAll(async () => {
  builtPackage();
  await trainTiny(run);
  await writePhotos(photos, 6);
  const model = await openRun(run);
  try {
    await buildIndex(model, imageCatalogue(model, photos), { out: index });
  } finally {
    model.close();
  }
}, 180_000);

const example = (...argv: string[]) => spawnSync(process.execPath, [join(ROOT, "examples", "retrieve.mjs"), ...argv], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });

describe("examples/retrieve.mjs with plain node", () => {
  it("prints the top K the library gives, and the routing path", async () => {
    const image = join(photos, "photo-01.png");
    const r = example(run, index, image, "make the square blue", "3", "--json");
    expect(r.status, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as { top: { id: string; score: number; row: number }[]; path: number[][][]; reference_similarity: number };
    const model = await openRun(run);
    const opened = openIndex(index, model);
    try {
      const q = await model.embedQueries([{ image, text: "make the square blue" }]);
      const [hits] = await opened.search(q, { k: 3 });
      expect(printed.top.map((h) => h.id)).toEqual(hits!.map((h) => h.id));
      printed.top.forEach((h, i) => expect(h.score).toBeCloseTo(hits![i]!.score, 5));
      expect(printed.path).toHaveLength(model.layers.length);
      const t = await model.embedImages([image]);
      expect(printed.reference_similarity).toBeCloseTo(q.data.reduce((s, v, i) => s + v * t.data[i]!, 0), 5);
    } finally {
      opened.close();
      model.close();
    }
    const text = example(run, index, image, "make the square blue", "2");
    expect(text.stdout).toMatch(/^top 2 of 6 for "make the square blue"/);
  });

  it("a bad input is its message and exit 2", () => {
    const r = example(run, index, join(photos, "nope.png"), "red");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`error: ${join(photos, "nope.png")}: cannot decode the image`);
  });
});
