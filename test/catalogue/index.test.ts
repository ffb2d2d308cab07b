// `sdfn index`: a catalogue embedded by a run's target encoder equals evaluation's embeddings of
// the same images; exact search equals a cosine ranking computed here; --add embeds only the new
// images; bad input (a missing listed image, a non-image file, an empty folder, another run's or a
// damaged index) is exit 2 naming the file and leaves the index as it was; --check and --export.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readIndex } from "../../src/catalogue/files.js";
import { openIndex } from "../../src/catalogue/search.js";
import { decodeImage } from "../../src/data/images.js";
import { embedGallery } from "../../src/eval/embed.js";
import { normalizeRows } from "../../src/eval/retrieval.js";
import { openRun } from "../../src/infer/model.js";
import { inference } from "../../src/nn/context.js";
import { openRun as openRunWithDataset } from "../../src/run/open-run.js";
import { sdfn } from "../support/cli.js";
import { missing, PYTHON } from "../support/requires.js";
import { trainTiny, writePhotos } from "./helpers.js";

tf.env().set("IS_TEST", true);

const scratch = mkdtempSync(join(tmpdir(), "sdfn-index-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const run = join(scratch, "run");
const other = join(scratch, "other");
const photos = join(scratch, "photos");
let ids: string[] = [];

beforeAll(async () => {
  await trainTiny(run);
  await trainTiny(other, 11);
  ids = await writePhotos(photos, 8);
  writeFileSync(join(photos, "notes.txt"), "not an image");
}, 60_000);

const rows = (data: Float32Array, dim: number) => Array.from({ length: data.length / dim }, (_, i) => Array.from(data.subarray(i * dim, (i + 1) * dim)));

describe("sdfn index --images", () => {
  const out = join(scratch, "photos.index");

  it("embeds every image under the folder as the target encoder does, one row per id, and leaves other files out", async () => {
    const r = await sdfn("index", run, "--images", photos, "--out", out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("8 items (8 embedded)");
    expect(r.err).toContain("left out 1 file(s) that are not images by name (notes.txt)");
    expect(r.err).toMatch(/embedding \[#+\] 8\/8 100% · [\d.]+ images\/s · ETA 0s/);
    const index = readIndex(out);
    expect(index.items.map((i) => i.id)).toEqual([...ids].sort());
    // the reference: each file decoded alone by the data pipeline, encoded by the network, normalised
    const model = await openRun(run);
    try {
      for (const [row, item] of index.items.entries()) {
        const px = await decodeImage(item.path!, { ...model.imageOptions, random_crop: false, flip: false });
        const t = tf.tidy(() => normalizeRows(model.session.network.encodeTarget(tf.tensor4d(px.data, [1, px.height, px.width, 3]), inference)));
        const want = Array.from(await t.data());
        t.dispose();
        expect(Array.from(index.embeddings.subarray(row * index.meta.dim, (row + 1) * index.meta.dim)).map((v, i) => v - want[i]!).every((d) => Math.abs(d) < 1e-5)).toBe(true);
      }
      expect(index.meta.run).toEqual(model.identity);
    } finally {
      model.close();
    }
  });

  it("exact search ranks by the cosine computed here, excluding the reference", async () => {
    const index = openIndex(out);
    try {
      const dim = index.meta.dim;
      const all = rows(index.embeddings, dim);
      const query = { count: 1, dim, data: index.embedding(3).slice() };
      const [hits] = await index.search(query, { k: 4, exclude: [[3]] });
      const cosine = all.map((row, i) => ({ i, s: row.reduce((a, v, j) => a + v * query.data[j]!, 0) })).filter((x) => x.i !== 3);
      cosine.sort((a, b) => b.s - a.s);
      expect(hits!.map((h) => h.row)).toEqual(cosine.slice(0, 4).map((c) => c.i));
      hits!.forEach((h, i) => expect(h.score).toBeCloseTo(cosine[i]!.s, 5));
      await expect(index.search(query, { k: 8, exclude: [[3]] })).rejects.toThrow("k: must be an integer from 1 to 7");
      await expect(index.search(query, { k: 0 })).rejects.toThrow("k: must be an integer from 1 to 8");
    } finally {
      index.close();
    }
  });

  it("--add embeds only the new images and keeps the old rows as they were", async () => {
    const before = readIndex(out);
    const thumbs = readFileSync(join(out, "thumbnails.bin"));
    const added = await writePhotos(photos, 2, 8);
    const r = await sdfn("index", run, "--images", photos, "--out", out, "--add");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("10 items (2 embedded, 8 kept)");
    expect(r.err).toContain(" 2/2 100%");
    const after = readIndex(out);
    expect(after.embeddings.subarray(0, before.embeddings.length)).toEqual(before.embeddings);
    expect(after.items.slice(8).map((i) => i.id)).toEqual([...added].sort());
    expect(readFileSync(join(out, "thumbnails.bin")).subarray(0, thumbs.length).equals(thumbs)).toBe(true);
    const again = await sdfn("index", run, "--images", photos, "--out", out, "--add");
    expect(again.out).toContain("nothing new to add (10 items already indexed); unchanged");
  });

  it("refuses an index another run embedded, and a damaged one, naming the file; nothing changes", async () => {
    const meta = readFileSync(join(out, "index.json"));
    const r = await sdfn("index", other, "--images", photos, "--out", out, "--add");
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${join(out, "index.json")}: the index was embedded by another model (run ${run}`);
    expect(readFileSync(join(out, "index.json")).equals(meta)).toBe(true);

    const damaged = join(scratch, "damaged.index");
    mkdirSync(damaged);
    for (const f of ["index.json", "items.jsonl", "embeddings.npy", "thumbnails.bin", "manifest.json"]) copyFileSync(join(out, f), join(damaged, f));
    const npy = readFileSync(join(damaged, "embeddings.npy"));
    npy[npy.length - 1]! ^= 0xff;
    writeFileSync(join(damaged, "embeddings.npy"), npy);
    for (const argv of [["--check", damaged], [run, "--images", photos, "--out", damaged, "--add"]]) {
      const bad = await sdfn("index", ...argv);
      expect(bad.code).toBe(2);
      expect(bad.err).toContain(`${join(damaged, "embeddings.npy")} is corrupt: its SHA-256 does not match the manifest; the index is damaged`);
    }
  });
});

describe("bad input to sdfn index is exit 2 naming the file, and writes nothing", () => {
  it("a listed image that does not exist, and a name that is not an image (file:line)", async () => {
    const list = join(scratch, "list.txt");
    writeFileSync(list, `# catalogue\nphotos/photo-00.png\nphotos/missing.png\n\nphotos/notes.txt\n`);
    const out = join(scratch, "list.index");
    const r = await sdfn("index", run, "--images", list, "--out", out);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${list}:3: ${join(scratch, "photos/missing.png")} does not exist`);
    expect(r.err).toContain(`${list}:5: photos/notes.txt is not an image file name`);
    expect(existsSync(out)).toBe(false);
  });

  it("a file named like an image that is not one: every such file named, the old index untouched", async () => {
    const dir = join(scratch, "with-bad");
    await writePhotos(dir, 3);
    writeFileSync(join(dir, "broken.jpg"), "this is text, not a JPEG");
    writeFileSync(join(dir, "empty.png"), "");
    const out = join(scratch, "bad.index");
    const r = await sdfn("index", run, "--images", dir, "--out", out);
    expect(r.code).toBe(2);
    expect(r.err).toContain("2 images could not be used (nothing was written)");
    expect(r.err).toContain(join(dir, "broken.jpg"));
    expect(r.err).toContain(join(dir, "empty.png"));
    expect(existsSync(out)).toBe(false);
  });

  it("an empty folder, a missing one, and an --out that holds other files", async () => {
    const empty = join(scratch, "empty");
    mkdirSync(empty);
    const r = await sdfn("index", run, "--images", empty, "--out", join(scratch, "e.index"));
    expect([r.code, r.err]).toEqual([2, `error: --images ${empty}: no images (.jpg .jpeg .png .webp) in ${empty}; nothing was written\n`]);
    const gone = await sdfn("index", run, "--images", join(scratch, "nope"), "--out", join(scratch, "e.index"));
    expect(gone.code).toBe(2);
    expect(gone.err).toContain("no such folder or list file");
    const mine = join(scratch, "mine");
    mkdirSync(mine);
    writeFileSync(join(mine, "keep.txt"), "the user's");
    const clobber = await sdfn("index", run, "--images", photos, "--out", mine);
    expect(clobber.code).toBe(2);
    expect(clobber.err).toContain("holds other files");
    expect(readFileSync(join(mine, "keep.txt"), "utf8")).toBe("the user's");
  });
});

describe("sdfn index --dataset, --approx, --check and --export", () => {
  const out = join(scratch, "shapes.index");

  it("embeds a split of the run's dataset exactly as evaluation embeds its gallery", async () => {
    const r = await sdfn("index", run, "--dataset", "shapes", "--out", out, "--approx");
    expect(r.code, r.err).toBe(0);
    const index = readIndex(out);
    const opened = await openRunWithDataset(run, "best");
    try {
      const set = opened.dataset.evalSets[0]!;
      expect(index.items.map((i) => i.id)).toEqual(set.gallery);
      const g = await embedGallery(opened.net, opened.dataset.loader, set.gallery, 16);
      const want = normalizeRows(g);
      const data = await want.data();
      tf.dispose([g, want]);
      expect(Math.max(...Array.from(data, (v, i) => Math.abs(v - index.embeddings[i]!)))).toBeLessThan(1e-5);
    } finally {
      opened.dispose();
    }
    const bad = await sdfn("index", run, "--dataset", "valid", "--out", join(scratch, "x.index"));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--dataset valid: the run's dataset (shapes) has no such split; give one of eval, train, shapes");
  });

  it("--check verifies the index and reports the approximate search's recall against exact", async () => {
    const r = await sdfn("index", "--check", out, "-k", "3", "--sample", "16", "--json");
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as { count: number; queries: number; k: number; recall: number };
    expect(report).toMatchObject({ count: 16, queries: 16, k: 3, verified: true });
    expect(report.recall).toBeGreaterThanOrEqual(0.9); // 16 items: the HNSW graph is all but exhaustive
  });

  it.skipIf(missing("pythonTorch"))("--export writes vectors and ids that numpy loads and ranks as sdfn does", async () => {
    const dir = join(scratch, "export");
    const r = await sdfn("index", "--export", out, "--out", dir);
    expect(r.code, r.err).toBe(0);
    const index = openIndex(out);
    const [hits] = await index.search({ count: 1, dim: index.meta.dim, data: index.embedding(5).slice() }, { k: 5 });
    index.close();
    const py = spawnSync(PYTHON, ["-c", [
      "import json, sys, numpy as np",
      `d = sys.argv[1]`,
      "v = np.load(d + '/vector.npy'); ids = np.load(d + '/id.npy'); names = np.load(d + '/item_id.npy')",
      "assert v.dtype == np.float32 and ids.dtype == np.int64, (v.dtype, ids.dtype)",
      "s = v @ v[5]; top = np.argsort(-s, kind='stable')[:5]",
      "print(json.dumps({'shape': list(v.shape), 'top': [str(names[i]) for i in top], 'ids': [int(ids[i]) for i in top], 'schema': json.load(open(d + '/schema.json'))['fields'][1]}))",
    ].join("\n"), dir], { encoding: "utf8" });
    expect(py.status, py.stderr).toBe(0);
    const got = JSON.parse(py.stdout) as { shape: number[]; top: string[]; ids: number[]; schema: unknown };
    expect(got.shape).toEqual([16, 8]);
    expect(got.top).toEqual(hits!.map((h) => h.id));
    expect(got.ids).toEqual(hits!.map((h) => h.row));
    expect(got.schema).toEqual({ name: "vector", file: "vector.npy", type: "FLOAT_VECTOR", dim: 8 });
  });
});
