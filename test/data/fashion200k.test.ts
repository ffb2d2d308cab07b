import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replaceText } from "../../src/data/datasets/fashion200k.js";
import { loadDatasetSource, openDataset } from "../../src/data/index.js";
import { createRegistry } from "../../src/builtins.js";

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
