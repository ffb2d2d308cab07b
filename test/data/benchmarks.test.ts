// FashionIQ and Shoes on the real annotation files (SDFN_SHARED_DATA, default ../shared/data beside the repo)
// with stand-in images: the split, pair and gallery sizes of docs/datasets.md.
import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missing, SHARED_DATA as SHARED } from "../support/requires.js";
import { DataError, loadDatasetSource, openDataset } from "../../src/data/index.js";
import { createRegistry } from "../../src/builtins.js";

tf.env().set("IS_TEST", true);
const noData = missing("sharedData");
const registry = createRegistry();
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "sdfn-data-"));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const json = async <T>(file: string): Promise<T> => JSON.parse(await readFile(file, "utf8")) as T;
const touchAll = (files: string[]) => Promise.all(files.map((f) => writeFile(f, "")));
const tinyPng = (rgb: [number, number, number]) =>
  sharp({ create: { width: 12, height: 8, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();

describe.skipIf(noData)("fashioniq on the real annotation files", () => {
  const cats = ["dress", "shirt", "toptee"] as const;
  let root: string;

  beforeAll(async () => {
    root = join(tmp, "fashioniq");
    await mkdir(join(root, "images", "dress"), { recursive: true });
    await mkdir(join(root, "images", "shirt"), { recursive: true });
    await symlink(join(SHARED, "fashioniq", "captions"), join(root, "captions"));
    await symlink(join(SHARED, "fashioniq", "image_splits"), join(root, "image_splits"));
    // Stand-ins: dress and shirt in per-category folders (.jpg), toptee in the shared folder (.png).
    const placed = new Set<string>();
    for (const cat of cats) {
      const ids = new Set<string>();
      for (const split of ["train", "val"]) {
        for (const e of await json<{ candidate: string; target: string }[]>(join(root, "captions", `cap.${cat}.${split}.json`))) {
          ids.add(e.candidate).add(e.target);
        }
      }
      for (const id of await json<string[]>(join(root, "image_splits", `split.${cat}.val.json`))) ids.add(id);
      const files = [...ids].filter((id) => !placed.has(id)).map((id) => (placed.add(id), cat === "toptee" ? join(root, "images", `${id}.png`) : join(root, "images", cat, `${id}.jpg`)));
      await touchAll(files);
    }
  });

  const open = (protocol: string) =>
    loadDatasetSource({ seed: 0, data: { dataset: "fashioniq", root, categories: [...cats], protocol, query_form: "joined", image_size: 224 } }, registry);

  it("reads the val protocol: 2017/2038/1961 pairs, galleries 2628/3089/2902, reference excluded", async () => {
    const { source } = await open("val");
    expect(source.missing).toEqual([]);
    expect(source.evalSets.map((s) => s.name)).toEqual(["dress", "shirt", "toptee"]);
    expect(source.evalSets.map((s) => s.queries.length)).toEqual([2017, 2038, 1961]);
    expect(source.evalSets.map((s) => s.gallery.length)).toEqual([2628, 3089, 2902]);
    expect(source.train.length).toBe(5985 + 5988 + 6027);
    const q = source.evalSets[0]!.queries[0]!;
    const dress = source.evalSets[0]!;
    // First val pair of cap.dress.val.json: candidate B005X4PL1G → target B0084Y8XIU.
    expect(q.reference).toBe("B005X4PL1G");
    expect(dress.gallery[q.positives[0]!]).toBe("B0084Y8XIU");
    expect(q.exclude).toEqual([dress.gallery.indexOf("B005X4PL1G")]);
    expect(q.text).toBe("is shiny and silver with shorter sleeves and fit and flare");
  });

  it("reads the original protocol: galleries are the val splits 3817/6346/5373", async () => {
    const { source } = await open("original");
    expect(source.evalSets.map((s) => s.gallery.length)).toEqual([3817, 6346, 5373]);
    expect(source.evalSets.map((s) => s.queries.length)).toEqual([2017, 2038, 1961]);
  });

  it("poses both caption orders as training pairs and queries with query_form both_orders", async () => {
    const { source } = await loadDatasetSource({ seed: 0, data: { dataset: "fashioniq", root, categories: ["dress"], query_form: "both_orders" } }, registry);
    expect(source.train.length).toBe(2 * 5985);
    expect(source.evalSets[0]!.queries.length).toBe(2 * 2017);
    expect(source.evalSets[0]!.queries[1]!.text).toBe("fit and flare and is shiny and silver with shorter sleeves");
  });

  it("decodes an image found in its category folder", async () => {
    await writeFile(join(root, "images", "dress", "B0084Y8XIU.jpg"), await tinyPng([255, 0, 0])); // PNG bytes, .jpg name: sharp sniffs
    const ds = await openDataset({ seed: 0, data: { dataset: "fashioniq", root, categories: ["dress"], image_size: 8 } }, registry);
    const images = await ds.loader.images(["B0084Y8XIU"]);
    const px = await images.data();
    images.dispose();
    expect(images.shape).toEqual([1, 8, 8, 3]);
    expect(px[0]).toBeCloseTo((1 - 0.485) / 0.229, 4);
    expect(px[2]).toBeCloseTo((0 - 0.406) / 0.225, 4);
  });
});

describe.skipIf(noData)("shoes on the real annotation files", () => {
  let root: string;
  let evalNames: string[];

  beforeAll(async () => {
    root = join(tmp, "shoes");
    await mkdir(root, { recursive: true });
    for (const f of ["relative_captions_shoes.json", "train_im_names.txt", "eval_im_names.txt"]) await symlink(join(SHARED, "shoes", f), join(root, f));
    const names = new Set<string>();
    for (const f of ["train_im_names.txt", "eval_im_names.txt"]) {
      for (const n of (await readFile(join(root, f), "utf8")).split(/\s+/).filter(Boolean)) names.add(n);
    }
    evalNames = (await readFile(join(root, "eval_im_names.txt"), "utf8")).split(/\s+/).filter(Boolean);
    // img_womens_<kind>_<n>.jpg lives somewhere under womens_<kind>/ (nested like the archive).
    const files = [...names].map((n) => {
      const kind = n.replace(/^img_(womens_.+)_\d+\.jpg$/, "$1");
      return join(root, kind, "0", n);
    });
    await Promise.all(unique(files.map((f) => join(f, ".."))).map((d) => mkdir(d, { recursive: true })));
    await touchAll(files);
  });

  it("splits pairs by their images: 8990 train, 1761 eval, gallery 4658", async () => {
    const { source } = await loadDatasetSource({ seed: 0, data: { dataset: "shoes", root } }, registry);
    expect(source.missing).toEqual([]);
    expect(source.train).toHaveLength(8990);
    expect(source.evalSets).toHaveLength(1);
    expect(source.evalSets[0]!.queries).toHaveLength(1761);
    expect(source.evalSets[0]!.gallery).toHaveLength(4658);
    const q = source.evalSets[0]!.queries[0]!;
    expect(q.exclude).toEqual([source.evalSets[0]!.gallery.indexOf(q.reference)]);
    expect(source.train[0]).toEqual({
      id: 0,
      reference: "img_womens_clogs_512.jpg",
      target: "img_womens_clogs_851.jpg",
      text: "is more of a textured material",
    });
  });

  it("refuses missing images with one error: how many and the first paths", async () => {
    const gone = evalNames.slice(0, 3);
    for (const n of gone) await unlink(join(root, n.replace(/^img_(womens_.+)_\d+\.jpg$/, "$1"), "0", n));
    const err = await openDataset({ seed: 0, data: { dataset: "shoes", root } }, registry).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    const message = (err as Error).message;
    expect(message).toMatch(/^shoes: 3 images are missing under /);
    for (const n of gone) expect(message).toContain(n);
    expect(message).toContain("data.root");
  });
});

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
