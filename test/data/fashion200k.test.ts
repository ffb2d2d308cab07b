import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replaceText } from "../../src/data/datasets/fashion200k.js";
import { loadDatasetSource, openDataset } from "../../src/data/index.js";
import { evaluate, rankSet } from "../../src/eval/evaluate.js";
import { createRegistry } from "../../src/builtins.js";
import { FixedSimilarity, tirgRanks, type LabelLine } from "../eval/peers.js";

tf.env().set("IS_TEST", true);

const FIXTURE = fileURLToPath(new URL("../fixtures/fashion200k", import.meta.url));
const registry = createRegistry();
let root: string;
const recipe = (data: Record<string, unknown> = {}) => ({ seed: 0, data: { dataset: "fashion200k", root, categories: ["dress"], ...data } });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sdfn-f200k-"));
  await cp(FIXTURE, root, { recursive: true });
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe("fashion200k", () => {
  it("writes the modification as TIRG does: first differing word each way", () => {
    expect(replaceText("white floral shift dress", "pink floral shift dress")).toBe("replace white with pink");
    expect(replaceText("white floral wrap dress", "white floral shift dress")).toBe("replace wrap with shift");
  });

  it("pairs training images whose descriptions differ in one word", async () => {
    const { source } = await loadDatasetSource(recipe(), registry);
    // 1001 ↔ 1002 (black/red) and 1001 ↔ 1003 (cotton/silk); 1002 and 1003 differ in two words;
    // 1004/1005 share one description, 1006 has no neighbour: no pairs for them.
    const byRef = new Map(source.train.map((p) => [p.reference.split("/")[3], p]));
    expect(source.train).toHaveLength(3);
    expect(byRef.get("1002")).toMatchObject({ target: expect.stringContaining("/1001/"), text: "replace red with black" });
    expect(byRef.get("1003")).toMatchObject({ target: expect.stringContaining("/1001/"), text: "replace silk with cotton" });
    expect(["replace black with red", "replace cotton with silk"]).toContain(byRef.get("1001")!.text);
  });

  it("reads test queries; every image with the target's description is a hit; the source is excluded", async () => {
    const { source } = await loadDatasetSource(recipe(), registry);
    const [set] = source.evalSets;
    expect(set!.gallery).toHaveLength(5);
    expect(set!.queries.map((q) => ({ text: q.text, positives: q.positives, exclude: q.exclude }))).toEqual([
      { text: "replace white with pink", positives: [1, 2], exclude: [0] },
      { text: "replace striped with floral", positives: [0], exclude: [3] },
      { text: "replace wrap with shift", positives: [0], exclude: [4] },
    ]);
    // No images in the fixture: all 11 are reported missing, by full path.
    expect(source.missing).toHaveLength(11);
    expect(source.missing[0]).toBe(join(root, "women/dresses/casual_and_day_dresses/1001/1001_0.jpeg"));
  });

  it("opens once the images exist, and names a missing label file", async () => {
    const { source } = await loadDatasetSource(recipe(), registry);
    for (const f of source.missing) {
      await mkdir(dirname(f), { recursive: true });
      await writeFile(f, "");
    }
    const ds = await openDataset(recipe(), registry);
    // "replace" and "with" occur in all 3 texts; the 4 swapped words follow.
    expect(ds.vocabulary.words.slice(0, 4)).toEqual(["<pad>", "<unk>", "replace", "with"]);
    expect(ds.vocabulary.size).toBe(8);
    await expect(loadDatasetSource(recipe({ categories: ["dress", "skirt"] }), registry)).rejects.toThrow(
      /fashion200k: cannot read .*skirt_train_detect_all\.txt \(no such file\); data\.root should hold labels\//,
    );
  });

  it("refuses a label path that leaves data.root (..), naming the file and line, not the path (file content)", async () => {
    const evil = await mkdtemp(join(tmpdir(), "sdfn-f200k-evil-"));
    await cp(FIXTURE, evil, { recursive: true });
    await writeFile(join(evil, "labels", "dress_train_detect_all.txt"), "women/a/1/1_0.jpeg\t0.9\tred dress\n../../etc/passwd\t0.9\tblue dress\n");
    try {
      await expect(loadDatasetSource({ ...recipe(), data: { ...recipe().data, root: evil } }, registry)).rejects.toThrow(
        `fashion200k: ${join(evil, "labels", "dress_train_detect_all.txt")}:2: the image path leaves data.root (${evil}): it is absolute or climbs out with ".."; list files name images relative to data.root (or pass --allow-outside-root to read outside it)`,
      );
      // --allow-outside-root (allowOutsideRoot) reads it: the path resolves beside the root
      await writeFile(join(evil, "labels", "dress_train_detect_all.txt"), "women/a/1/1_0.jpeg\t0.9\tred dress\n../beside/1_0.jpeg\t0.9\tblue dress\n");
      const { source } = await loadDatasetSource({ ...recipe(), data: { ...recipe().data, root: evil } }, registry, { allowOutsideRoot: true });
      expect(source.missing).toContain(join(evil, "..", "beside", "1_0.jpeg"));
    } finally {
      await rm(evil, { recursive: true, force: true });
    }
  });
});

describe("fashion200k's gallery as TIRG builds it", () => {
  // Test label lines with what TIRG keeps and sdfn used to fold: a1 listed twice (same description),
  // a2 with the same words in other case, a3's description with a double space, a6 listed twice with two
  // descriptions; then filler lines so that K < the gallery.
  const lines: LabelLine[] = [
    { path: "w/d/a1/a1_0.jpeg", description: "Black Floral Dress" },
    { path: "w/d/a2/a2_0.jpeg", description: "black floral dress" },
    { path: "w/d/a3/a3_0.jpeg", description: "red  floral dress" },
    { path: "w/d/a4/a4_0.jpeg", description: "red floral dress" },
    { path: "w/d/a1/a1_0.jpeg", description: "Black Floral Dress" },
    { path: "w/d/a6/a6_0.jpeg", description: "blue floral dress" },
    { path: "w/d/a6/a6_0.jpeg", description: "blue floral gown" },
    ...Array.from({ length: 20 }, (_, i) => ({ path: `w/d/f${i}/f${i}_0.jpeg`, description: `${["red", "blue", "Black"][i % 3]} ${["floral", "lace"][i % 2]} dress` })),
  ];
  const queries: [string, string][] = [
    ["w/d/a4/a4_0.jpeg", "w/d/a1/a1_0.jpeg"], // target caption "Black Floral Dress": a1's two lines, not a2's
    ["w/d/a1/a1_0.jpeg", "w/d/a4/a4_0.jpeg"], // source a1: only its last line is excluded
    ["w/d/a2/a2_0.jpeg", "w/d/a6/a6_0.jpeg"], // target a6's last line: "blue floral gown"
    ["w/d/f0/f0_0.jpeg", "w/d/a3/a3_0.jpeg"], // "red  floral dress" is not "red floral dress"
    ["w/d/f3/f3_0.jpeg", "w/d/f1/f1_0.jpeg"],
    ["w/d/f5/f5_0.jpeg", "w/d/f2/f2_0.jpeg"],
  ];
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sdfn-f200k-tirg-"));
    await cp(FIXTURE, dir, { recursive: true });
    await writeFile(join(dir, "labels", "dress_test_detect_all.txt"), lines.map((l) => `${l.path}\t0.9\t${l.description}\n`).join(""));
    await writeFile(join(dir, "test_queries.txt"), queries.map((q) => `${q.join(" ")}\n`).join(""));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("one entry per label line, descriptions as written: hits, exclusions and texts as TIRG's", async () => {
    const { source } = await loadDatasetSource({ seed: 0, data: { dataset: "fashion200k", root: dir, categories: ["dress"] } }, registry);
    const [set] = source.evalSets;
    expect(set!.gallery).toEqual(lines.map((l) => l.path));
    const shown = set!.queries.map((q) => ({ text: q.text, positives: q.positives, exclude: q.exclude }));
    expect(shown.slice(0, 4)).toEqual([
      // "Black Floral Dress": a1's two lines; not a2 ("black floral dress") nor the fillers' "Black floral dress"
      { text: "replace red with Black", positives: [0, 4], exclude: [3] },
      // "red floral dress": a4 and the fillers f0, f6, f12, f18, not a3 ("red  floral dress"); a1's line 0 stays in the ranking
      { text: "replace Black with red", positives: [3, 7, 13, 19, 25], exclude: [4] },
      // a6's last line: "blue floral gown" (its line 5, "blue floral dress", is the same image: a non-hit tied to the hit)
      { text: "replace black with blue", positives: [6], exclude: [1] },
      // the same words: get_different_word falls back to the last word each way
      { text: "replace dress with dress", positives: [2], exclude: [7] },
    ]);
    expect(source.protocolCounts).toEqual({ label_lines: 27, duplicate_label_lines: 2, queries_with_a_hit_tied_to_a_non_hit: 1 });
  });

  it("sdfn ranks every query as TIRG's rule does on the same scores, but for the tie of one image's two lines (hit first)", async () => {
    const { source } = await loadDatasetSource({ seed: 0, data: { dataset: "fashion200k", root: dir, categories: ["dress"] } }, registry);
    const sim = new FixedSimilarity(4);
    const { net, loader } = sim.network();
    const ks = [1, 5, 10];
    const sdfn = (await rankSet(net, loader, source.evalSets[0]!, 8)).ranks;
    const tirg = tirgRanks(lines, queries, sim, ks);
    // query 3: a6's two lines score alike; sdfn counts the entries scoring higher than the hit, TIRG's sort (here in
    // line order) puts the non-hit line first; every other query ranks the same
    expect(sdfn).toEqual(tirg.ranks.map((r, i) => (i === 2 ? r - 1 : r)));
    const metrics = await evaluate(net, loader, source.evalSets, { ks, batchSize: 8 });
    const without = (xs: number[]) => xs.filter((_, i) => i !== 2);
    const recall = (ranks: number[], k: number) => (100 * ranks.filter((r) => r < k).length) / ranks.length;
    expect(ks.map((k) => metrics[`fashion200k/R@${k}`])).toEqual(ks.map((k) => recall(sdfn, k)));
    expect(ks.map((k) => recall(without(sdfn), k))).toEqual(ks.map((k) => recall(without(tirg.ranks), k)));
  });
});
