// data.missing_images: skip in a run, on a tiny FashionIQ in the dataset's own file formats with two
// of its images absent: the counts are printed when the run starts and kept in summary.json, and the
// evaluation is marked not comparable to published numbers in the summary line, summary.json, the
// report and `sdfn eval`; a resume that would see other images is refused (exit 2) before writing.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOT_COMPARABLE } from "../../src/data/index.js";
import { sdfn, ROOT } from "../support/cli.js";

tf.env().set("IS_TEST", true);

const scratch = mkdtempSync(join(tmpdir(), "sdfn-missing-run-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Record<string, any>;
const root = join(scratch, "fashioniq");
const image = (id: string) => join(root, "images", `${id}.png`);
const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `B${String(from + i).padStart(3, "0")}`);

/** 10 training pairs (B000→B001, …, B009→B000) and 6 val pairs (B100→B101, …, B105→B106), two captions each (the third pair's second one empty). */
beforeAll(async () => {
  mkdirSync(join(root, "captions"), { recursive: true });
  mkdirSync(join(root, "images"), { recursive: true });
  const pairs = (names: string[]) =>
    names.map((candidate, i) => ({ candidate, target: names[(i + 1) % names.length]!, captions: [`is red ${i}`, i === 2 ? " " : `has sleeves ${i}`] }));
  writeFileSync(join(root, "captions", "cap.dress.train.json"), JSON.stringify(pairs(ids(0, 10))));
  writeFileSync(join(root, "captions", "cap.dress.val.json"), JSON.stringify(pairs(ids(100, 8)).slice(0, 6)));
  for (const [i, id] of [...ids(0, 10), ...ids(100, 8)].entries()) {
    const png = await sharp({ create: { width: 12, height: 8, channels: 3, background: { r: (37 * i) % 256, g: (91 * i) % 256, b: 128 } } }).png().toBuffer();
    writeFileSync(image(id), png);
  }
  // absent: a training image (pairs B009→B000 and B000→B001) and a val image (pairs B103→B104 and B104→B105)
  rmSync(image("B000"));
  rmSync(image("B104"));
});

function recipe(name: string, dataExtra = ""): string {
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `extends: ${join(ROOT, "test/train/fixtures/tiny.yaml")}`,
      `data: { dataset: fashioniq, root: ${root}, categories: [dress], missing_images: skip, image_size: 16, prefetch: 1${dataExtra} }`,
      `training: { epochs: 1, batch_size: 4 }`,
      ``,
    ].join("\n"),
  );
  return file;
}

describe("data.missing_images: skip in sdfn build", () => {
  it("prints and records what was dropped, marks the evaluation in the summary line, summary.json, the report and sdfn eval", async () => {
    const out = join(scratch, "run");
    const r = await sdfn("build", recipe("skip"), "--out", out, "--log", "plain", "--backend", "cpu");
    expect(r.code, r.err).toBe(0);
    // training: 10 pairs, 19 captions (one empty), the 2 pairs naming B000 go with 4; val: 6 pairs, 11 queries, the 2 pairs
    // naming B104 go with 4; the val gallery (B100…B106) loses B104 alone (B103 and B105 are named by kept pairs too)
    const counts = {
      policy: "skip",
      missing: 2,
      train: { dress: { kept: 15, dropped: 4 } },
      eval: { dress: { queries: { kept: 7, dropped: 4 }, gallery: { kept: 6, dropped: 1 } } },
      comparable: false,
    };
    const line = `data.missing_images: skip: 2 images missing; kept of all: training pairs dress 15/19; evaluation queries dress 7/11; gallery images dress 6/7; the evaluation is ${NOT_COMPARABLE}`;
    expect(r.out).toContain(line);
    const summary = readJson(join(out, "summary.json"));
    expect(summary.missing_images).toMatchObject(counts);
    expect(summary.comparable_to_published).toBe(false);
    const done = r.out.split("\n").find((l) => l.startsWith("done (completed) · "));
    expect(done).toContain(` · ${NOT_COMPARABLE} · `);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain(`<b class="warn">${NOT_COMPARABLE}</b>`);
    expect(readJson(join(out, "checkpoints", "last", "meta.json")).missingImages).toEqual({ missing: 2, fingerprint: summary.missing_images.fingerprint });

    const evaluated = await sdfn("eval", out, "--backend", "cpu", "--checkpoint", "last");
    expect(evaluated.code, evaluated.err).toBe(0);
    expect(evaluated.out).toContain(`${NOT_COMPARABLE}\n${line}\n`);
    const asJson = await sdfn("eval", out, "--backend", "cpu", "--checkpoint", "last", "--json");
    expect(JSON.parse(asJson.out)).toMatchObject({ comparable_to_published: false, missing_images: counts });

    // One more image gone: the run would train on other pairs; its resume is refused, nothing written.
    const before = statSync(join(out, "metrics.jsonl")).size;
    const png = readFileSync(image("B005"));
    rmSync(image("B005"));
    try {
      const resumed = await sdfn("build", "--resume", out, "--log", "plain", "--backend", "cpu");
      expect(resumed.code).toBe(2);
      expect(resumed.err).toContain(
        `${out}: the dataset's images changed since this run started (2 missing (data.missing_images: skip) then, 3 missing (data.missing_images: skip) now), ` +
          `so it would train on other pairs; resume with the images it started with, or start a new run`,
      );
      expect(statSync(join(out, "metrics.jsonl")).size).toBe(before);
    } finally {
      writeFileSync(image("B005"), png);
    }
  });

  it("with nothing missing, skip changes nothing: comparable, no mark", async () => {
    const out = join(scratch, "complete");
    writeFileSync(image("B000"), readFileSync(image("B001")));
    writeFileSync(image("B104"), readFileSync(image("B101")));
    try {
      const r = await sdfn("build", recipe("complete"), "--out", out, "--log", "plain", "--backend", "cpu");
      expect(r.code, r.err).toBe(0);
      expect(readJson(join(out, "summary.json"))).toMatchObject({ comparable_to_published: true, missing_images: { missing: 0, comparable: true } });
      expect(r.out).not.toContain("data.missing_images"); // nothing to say when nothing is missing
      expect(existsSync(join(out, "report.html"))).toBe(true);
      expect(readFileSync(join(out, "report.html"), "utf8")).not.toContain(NOT_COMPARABLE);
    } finally {
      rmSync(image("B000"));
      rmSync(image("B104"));
    }
  });
});
