// data.check_images: full — before training every image is decoded once, with progress, and
// every corrupt, truncated or empty one is reported by file name (exit 2, no run directory).
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/builtins.js";
import { decodeAll, imageIds, type Progress } from "../../src/data/check-images.js";
import { DataError, loadDatasetSource, openDataset } from "../../src/data/index.js";
import { sdfn } from "../support/cli.js";

const ROOT = resolve(import.meta.dirname, "../..");
let work: string;
let root: string;
let truncated: string;
let empty: string;
let images: string[];
const registry = createRegistry();
const data = (extra: Record<string, unknown> = {}) => ({ seed: 0, data: { dataset: "fashion200k", root, categories: ["dress"], image_size: 16, ...extra } });

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "sdfn-check-images-"));
  root = join(work, "f200k");
  await cp(join(ROOT, "test/fixtures/fashion200k"), root, { recursive: true });
  const { source } = await loadDatasetSource(data(), registry);
  // every image the fixture's labels name (none exist yet)
  const jpeg = await sharp({ create: { width: 24, height: 32, channels: 3, background: { r: 200, g: 30, b: 90 } } }).jpeg().toBuffer();
  for (const f of source.missing) {
    await mkdir(dirname(f), { recursive: true });
    await writeFile(f, jpeg);
  }
  // Two of the images the run reads (the labels also list images no pair or gallery uses).
  const used = imageIds(source).map((id) => source.images.path(id)!);
  [truncated, empty] = [used[1]!, used.at(-1)!];
  images = used;
  await writeFile(truncated, jpeg.subarray(0, Math.floor(jpeg.length / 2))); // cut off mid-scan
  await writeFile(empty, "");
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe("data.check_images: full", () => {
  it("decodes every image once with progress and finds every bad one, in order, by file", async () => {
    const { source } = await loadDatasetSource(data(), registry);
    const ids = imageIds(source);
    expect(ids.map((id) => source.images.path(id))).toEqual(images); // training pairs', gallery and query images, once each
    expect(new Set(ids).size).toBe(ids.length);
    const seen: Progress[] = [];
    const bad = await decodeAll(ids, source, 3, (p) => seen.push(p));
    expect(bad.map((b) => b.file)).toEqual([truncated, empty]);
    expect(bad[0]!.reason).toMatch(/cannot decode the image/);
    expect(seen[0]).toEqual({ task: "checking images", done: 0, total: images.length });
    expect(seen.at(-1)).toEqual({ task: "checking images", done: images.length, total: images.length });
    expect(seen.map((p) => p.done)).toEqual([...seen.map((p) => p.done)].sort((a, b) => a - b));
  });

  it("openDataset refuses the dataset listing all of them; first_use (the default) does not decode ahead", async () => {
    const err = await openDataset(data({ check_images: "full" }), registry, { checkImages: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    const message = (err as Error).message;
    expect(message).toContain(`fashion200k: 2 of ${images.length} images cannot be decoded (data.check_images: full):`);
    expect(message).toContain(`\n  ${truncated}: cannot decode the image`);
    expect(message).toContain(`\n  ${empty}: cannot decode the image`);
    // Not asked (eval/query), or the default: opens without decoding.
    await expect(openDataset(data({ check_images: "full" }), registry)).resolves.toBeDefined();
    await expect(openDataset(data(), registry, { checkImages: true })).resolves.toBeDefined();
  });

  it("`sdfn build` prints progress, names both files, exits 2 and leaves no run directory", async () => {
    const recipe = join(work, "check.yaml");
    await writeFile(
      recipe,
      [
        `extends: ${join(ROOT, "recipes/sdfn-fashion200k.yaml")}`,
        `encoders: { image: { weights: null }, text: { glove: null } }   # from scratch: no pretrained files here`,
        `data: { root: ${root}, categories: [dress], image_size: 16, check_images: full }`,
        `evaluation: { recall_at: [1, 4] }`,
        ``,
      ].join("\n"),
    );
    const run = join(work, "run");
    const { code, out, err } = await sdfn("build", recipe, "--out", run, "--log", "plain", "--backend", "cpu");
    expect(code).toBe(2);
    expect(out).toContain(`checking images 0/${images.length} (0%)\n`);
    expect(out).toContain(`checking images ${images.length}/${images.length} (100%)\n`);
    expect(err).toContain(`2 of ${images.length} images cannot be decoded`);
    expect(err).toContain(truncated);
    expect(err).toContain(empty);
    expect(existsSync(run)).toBe(false);
    expect((await readFile(truncated)).length).toBeGreaterThan(0); // nothing was changed in the data
  });
});
