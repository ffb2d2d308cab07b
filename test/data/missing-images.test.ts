// data.missing_images on the real annotation files (SDFN_SHARED_DATA) with a seeded random 10 % of
// the stand-in images absent: `skip` drops exactly the training pairs, queries and gallery images a
// count from the files says it should, per split and category (and `sdfn data` prints the same);
// the kept queries still point at their own target and reference; FashionIQ's VAL evaluation of
// what is left equals VAL's own rule, which drops pairs with a missing image; `error` refuses.
import { closeSync, mkdirSync, openSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/builtins.js";
import { DataError, loadDatasetSource, openDataset, type KeptDropped } from "../../src/data/index.js";
import { evaluate } from "../../src/eval/evaluate.js";
import { ROOT, sdfn } from "../support/cli.js";
import { missing, SHARED_DATA } from "../support/requires.js";
import { FixedSimilarity, valRecall, type CaptionPair, type ShoesCaption } from "../eval/peers.js";

tf.env().set("IS_TEST", true);
const noData = missing("sharedData");
const registry = createRegistry();
const CATEGORIES = ["dress", "shirt", "toptee"] as const;
const json = async <T>(file: string): Promise<T> => JSON.parse(await readFile(file, "utf8")) as T;
const lines = async (file: string) => (await readFile(file, "utf8")).split("\n").map((l) => l.trim()).filter(Boolean);

/** A seeded tenth of `ids` (sorted first, so the draw does not depend on file order). */
function seededTenth(ids: Iterable<string>, seed: number): Set<string> {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return new Set([...new Set(ids)].sort().filter(() => next() < 0.1));
}

/** Empty stand-in files (the readers only list them) for `ids` but the `absent` ones. */
function standIns(dir: string, ids: Iterable<string>, absent: ReadonlySet<string>, name: (id: string) => string) {
  const files = [...new Set(ids)].filter((id) => !absent.has(id)).map((id) => join(dir, name(id)));
  for (const d of new Set(files.map((f) => join(f, "..")))) mkdirSync(d, { recursive: true });
  for (const f of files) closeSync(openSync(f, "w"));
}

const kd = (kept: number, dropped: number): KeptDropped => ({ kept, dropped });
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "sdfn-missing-"));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe.skipIf(noData)("FashionIQ with 10 % of the images missing (real annotation files)", () => {
  let root: string;
  let absent: Set<string>;
  const caps: Record<string, Record<"train" | "val", CaptionPair[]>> = {};
  const recipe = (data: Record<string, unknown> = {}) => ({
    seed: 0,
    data: { dataset: "fashioniq", root, categories: [...CATEGORIES], query_form: "per_caption", protocol: "val", missing_images: "skip", ...data },
  });

  beforeAll(async () => {
    root = join(tmp, "fashioniq");
    await mkdir(join(root, "images"), { recursive: true });
    for (const dir of ["captions", "image_splits"]) await symlink(join(SHARED_DATA, "fashioniq", dir), join(root, dir));
    for (const c of CATEGORIES) caps[c] = { train: await json(join(root, "captions", `cap.${c}.train.json`)), val: await json(join(root, "captions", `cap.${c}.val.json`)) };
    const named = CATEGORIES.flatMap((c) => [...caps[c]!.train, ...caps[c]!.val].flatMap((e) => [e.candidate, e.target]));
    absent = seededTenth(named, 22);
    standIns(join(root, "images"), named, absent, (id) => `${id}.jpg`);
  });

  const present = (id: string) => !absent.has(id);
  const texts = (e: CaptionPair) => e.captions.filter((c) => c.trim() !== "").length;
  /** Per-caption texts of the pairs whose two images are present, and of the others. */
  const count = (pairs: readonly CaptionPair[]) => {
    const keep = (e: CaptionPair) => present(e.candidate) && present(e.target);
    const sum = (xs: CaptionPair[]) => xs.reduce((n, e) => n + texts(e), 0);
    return kd(sum(pairs.filter(keep)), sum(pairs.filter((e) => !keep(e))));
  };
  /** VAL's gallery (the images of the pairs with a query) of all pairs, and of the pairs left. */
  const galleryCount = (pairs: readonly CaptionPair[]) => {
    const images = (xs: readonly CaptionPair[]) => new Set(xs.filter((e) => texts(e) > 0).flatMap((e) => [e.candidate, e.target])).size;
    const kept = images(pairs.filter((e) => present(e.candidate) && present(e.target)));
    return kd(kept, images(pairs) - kept);
  };

  it("skip drops the pairs, queries and gallery images of the missing images, counted per split and category; the evaluation is marked", async () => {
    const { source, missingImages } = await loadDatasetSource(recipe(), registry);
    const named = new Set(CATEGORIES.flatMap((c) => [...caps[c]!.train, ...caps[c]!.val].flatMap((e) => [e.candidate, e.target])));
    expect(absent.size).toBeGreaterThan(0.09 * named.size);
    expect(missingImages.policy).toBe("skip");
    expect(missingImages.missing).toBe(absent.size);
    expect(missingImages.train).toEqual(Object.fromEntries(CATEGORIES.map((c) => [c, count(caps[c]!.train)])));
    expect(missingImages.eval).toEqual(Object.fromEntries(CATEGORIES.map((c) => [c, { queries: count(caps[c]!.val), gallery: galleryCount(caps[c]!.val) }])));
    expect(missingImages.comparable).toBe(false);
    // what is kept names no missing image; pair ids run from 0; each query still points at its own target and reference
    expect(source.train.every((p, i) => p.id === i && present(p.reference) && present(p.target))).toBe(true);
    for (const [i, set] of source.evalSets.entries()) {
      const targetOf = new Map(caps[CATEGORIES[i]!]!.val.map((e) => [`${e.candidate} ${e.target}`, e.target]));
      expect(set.gallery.every(present)).toBe(true);
      for (const q of set.queries) {
        expect(targetOf.has(`${q.reference} ${set.gallery[q.positives[0]!]}`)).toBe(true);
        expect(q.exclude.map((j) => set.gallery[j])).toEqual([q.reference]);
      }
    }
  });

  it("what skip leaves, evaluated by sdfn, equals VAL's rule over its own incomplete download", async () => {
    const { source } = await loadDatasetSource(recipe(), registry);
    const sim = new FixedSimilarity(4);
    const { net, loader } = sim.network();
    const metrics = await evaluate(net, loader, source.evalSets, { ks: [10, 50], batchSize: 1024 });
    for (const c of CATEGORIES) {
      const val = valRecall(caps[c]!.val, present, sim, [10, 50]);
      expect([c, metrics[`${c}/R@10`], metrics[`${c}/R@50`]]).toEqual([c, val.recall[10], val.recall[50]]);
    }
  });

  it("sdfn data prints the same counts (JSON) before any training", async () => {
    const { missingImages } = await loadDatasetSource(recipe(), registry);
    const file = join(tmp, "fiq-skip.yaml");
    await writeFile(file, `extends: ${join(ROOT, "test/train/fixtures/tiny.yaml")}\ndata: ${JSON.stringify(recipe().data)}\n`);
    const r = await sdfn("data", file);
    expect([r.code, r.err]).toEqual([0, ""]);
    const stats = JSON.parse(r.out) as { missing_images: Record<string, unknown>; eval: Record<string, { queries: number; missing_images: number }> };
    const { missing: count, fingerprint: _, ...counts } = missingImages;
    expect(stats.missing_images).toMatchObject({ count, ...counts });
    expect(stats.eval.dress).toMatchObject({ queries: missingImages.eval.dress!.queries.kept, missing_images: 0 });
  });

  it("error (the default) refuses: how many are missing, where to get them, and data.missing_images: skip", async () => {
    const err = await openDataset(recipe({ missing_images: "error", categories: ["dress"] }), registry).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    const message = (err as Error).message;
    expect(message).toMatch(/^fashioniq: \d+ images are missing under /);
    expect(message).toContain("docs/datasets.md");
    expect(message).toContain("data.missing_images: skip");
  });
});

describe.skipIf(noData)("Shoes with 10 % of the images missing (real annotation files)", () => {
  it("skip keeps the pairs and queries whose images are present; the gallery is the eval list without the missing", async () => {
    const root = join(tmp, "shoes");
    await mkdir(root, { recursive: true });
    for (const f of ["relative_captions_shoes.json", "train_im_names.txt", "eval_im_names.txt"]) await symlink(join(SHARED_DATA, "shoes", f), join(root, f));
    const [trainNames, evalNames] = [new Set(await lines(join(root, "train_im_names.txt"))), await lines(join(root, "eval_im_names.txt"))];
    const absent = seededTenth([...trainNames, ...evalNames], 22);
    standIns(root, [...trainNames, ...evalNames], absent, (n) => join(n.replace(/^img_(womens_.+)_\d+\.jpg$/, "$1"), "0", n));
    const captions = await json<ShoesCaption[]>(join(root, "relative_captions_shoes.json"));
    const evalSet = new Set(evalNames);
    const inSplit = (names: ReadonlySet<string>) => captions.filter((c) => names.has(c.ImageName) && names.has(c.ReferenceImageName));
    const both = (c: ShoesCaption) => !absent.has(c.ImageName) && !absent.has(c.ReferenceImageName);
    const split = (cs: ShoesCaption[]) => kd(cs.filter(both).length, cs.filter((c) => !both(c)).length);

    const { source, missingImages } = await loadDatasetSource({ seed: 0, data: { dataset: "shoes", root, missing_images: "skip" } }, registry);
    expect(missingImages.train).toEqual({ all: split(inSplit(trainNames)) });
    const galleryKept = evalNames.filter((n) => !absent.has(n)).length;
    expect(missingImages.eval).toEqual({ shoes: { queries: split(inSplit(evalSet)), gallery: kd(galleryKept, evalNames.length - galleryKept) } });
    expect(source.evalSets[0]!.gallery).toEqual(evalNames.filter((n) => !absent.has(n)));
    expect(missingImages.comparable).toBe(false);
  });
});
