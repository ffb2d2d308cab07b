import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { openDataset, loadDatasetSource } from "../../src/data/index.js";
import { imageOnlyRecall, symbolicRecall, textOnlyRecall } from "../../src/data/shapes/baselines.js";
import { applyEdit, cellName, editText, parseText, resolveText, sceneKey, type Scene } from "../../src/data/shapes/scene.js";
import { renderScene } from "../../src/data/shapes/render.js";
import { createRegistry } from "../../src/builtins.js";
import { Rng } from "../../src/util/rng.js";

tf.env().set("IS_TEST", true);
const registry = createRegistry();
const world = { grid: 3, colors: 4, shapes: 3 };
const recipe = (data: Record<string, unknown> = {}) => ({
  seed: 0,
  data: { dataset: "shapes", train_pairs: 200, test_references: 24, test_edits: 24, test_queries: 150, ...data },
});

describe("shapes scenes and texts", () => {
  it("names cells and writes the edit texts", () => {
    expect([0, 1, 4, 5, 8].map((c) => cellName(3, c))).toEqual(["top left", "top", "center", "right", "bottom right"]);
    const scene: Scene = [
      { shape: 0, color: 0, size: 1, cell: 0 },
      { shape: 2, color: 2, size: 0, cell: 4 },
    ];
    expect(editText(world, scene, { kind: "recolor", cell: 0, color: 2 }, false)).toBe("make the red circle blue");
    expect(editText(world, scene, { kind: "remove", cell: 4 }, true)).toBe("remove the triangle");
    expect(editText(world, scene, { kind: "add", obj: { shape: 1, color: 1, size: 0, cell: 1 } }, false)).toBe(
      "add a small green square at the top",
    );
    const moved = applyEdit(scene, { kind: "move", cell: 0, to: 8 });
    expect(sceneKey(moved)).toBe("4:2.2.0,8:0.0.1");
    // The parser recovers the edit from the words alone.
    const parsed = parseText(world, "move the red circle to the bottom right")!;
    expect(resolveText(parsed, scene)).toEqual({ kind: "move", cell: 0, to: 8 });
  });

  it("renders shapes in their cells with their colours", () => {
    const px = renderScene([{ shape: 1, color: 0, size: 1, cell: 4 }], 30, 3); // red square in the center cell
    const at = (x: number, y: number) => Array.from(px.subarray((y * 30 + x) * 3, (y * 30 + x) * 3 + 3));
    expect(at(15, 15)).toEqual([220, 40, 40]);
    expect(at(2, 2)).toEqual([40, 40, 40]);
  });
});

describe("shapes dataset", () => {
  it("is deterministic by seed and sized by the recipe", async () => {
    const a = await openDataset(recipe(), registry);
    const b = await openDataset(recipe(), registry);
    const c = await openDataset(recipe({ seed: 1 }), registry);
    expect(a.train).toHaveLength(200);
    expect(a.train.map((p) => p.text)).toEqual(b.train.map((p) => p.text));
    expect(a.train.map((p) => p.text)).not.toEqual(c.train.map((p) => p.text));
    expect(a.evalSets).toHaveLength(1);
    expect(a.evalSets[0]!.gallery).toHaveLength(24 * 24);
    expect(a.evalSets[0]!.queries).toHaveLength(150);
    expect(a.vocabulary.words.slice(0, 2)).toEqual(["<pad>", "<unk>"]);
    expect(a.vocabulary.size).toBeLessThan(40); // a small vocabulary
  });

  it("needs both image and text: single-modality baselines fail, the symbolic oracle finds every target", async () => {
    const { source } = await loadDatasetSource(recipe(), registry);
    const { scenes, pixels } = source as unknown as { scenes: Map<string, Scene>; pixels: (id: string) => Uint8Array };
    const set = source.evalSets[0]!;
    const scene = (id: string) => scenes.get(id)!;
    // The target is well defined: gallery scenes are distinct, one positive each.
    expect(new Set(set.gallery.map((id) => sceneKey(scene(id)))).size).toBe(set.gallery.length);
    expect(symbolicRecall(set, world, scene, 1)).toBe(1);
    const image = imageOnlyRecall(set, pixels, 10);
    const text = textOnlyRecall(set, world, scene, 10);
    expect(image).toBeLessThan(0.45);
    expect(text).toBeLessThan(0.45);
    expect(text).toBeGreaterThan(0.3); // ≈ 10/24: the 24 references share every text
    // What a run shows beside the model's recall: the same numbers, in percent, for several K at once.
    const shown = source.baselines!(set, [1, 10]);
    expect(shown["image only"]!["R@10"]).toBeCloseTo(100 * image, 10);
    expect(shown["text only"]!["R@10"]).toBeCloseTo(100 * text, 10);
    expect(shown["text only"]!["R@1"]).toBeCloseTo(100 * textOnlyRecall(set, world, scene, 1), 10);
  });

  it("loads batches of normalised pixels and tokens without leaking tensors", async () => {
    const ds = await openDataset(recipe({ train_pairs: 10, image_size: 16, prefetch: 2 }), registry);
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    for await (const batch of ds.loader.trainBatches(ds.train, 4, new Rng(3))) {
      expect(batch.reference.shape).toEqual([batch.ids.length, 16, 16, 3]);
      expect(batch.tokens.dtype).toBe("int32");
      expect(batch.mask.shape).toEqual(batch.tokens.shape);
      seen.push(...batch.ids);
      tf.dispose([batch.reference, batch.target, batch.tokens, batch.mask]);
    }
    // 10 pairs, batch 4: 4 + 4 + 2; every pair once.
    expect(seen.slice().sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(tf.memory().numTensors).toBe(before);
    // Background pixel (40, 40, 40) normalised with ImageNet red mean/std.
    const img = await ds.loader.images([ds.evalSets[0]!.gallery[0]!]);
    const v = (await img.data())[0]!;
    img.dispose();
    expect(v).toBeCloseTo((40 / 255 - 0.485) / 0.229, 5);
  });
});

describe("shapes edit_mix: global", () => {
  it("writes, parses and applies the scene-wide edits", () => {
    const scene: Scene = [
      { shape: 0, color: 0, size: 0, cell: 0 },
      { shape: 1, color: 2, size: 1, cell: 4 },
      { shape: 2, color: 1, size: 0, cell: 5 },
    ];
    expect(editText(world, scene, { kind: "recolor_all", color: 1 }, false)).toBe("make every shape green");
    expect(applyEdit(scene, { kind: "recolor_all", color: 1 }).map((o) => o.color)).toEqual([1, 1, 1]);
    // left ↔ right: cell 0 → 2, the center stays, 5 (right) → 3 (left), sorted by cell again
    const mirrored = applyEdit(scene, { kind: "mirror", grid: 3 });
    expect(mirrored.map((o) => [o.cell, o.shape])).toEqual([[2, 0], [3, 2], [4, 1]]);
    const text = editText(world, scene, { kind: "mirror", grid: 3 }, false);
    expect(text).toBe("mirror the scene left to right");
    expect(resolveText(parseText(world, text)!, scene)).toEqual({ kind: "mirror", grid: 3 });
    expect(resolveText(parseText(world, "make every shape green")!, scene)).toEqual({ kind: "recolor_all", color: 1 });
  });

  it("adds the scene-wide kinds and still needs both image and text (the symbolic oracle finds every target)", async () => {
    const { source } = await loadDatasetSource(recipe({ edit_mix: "global", test_queries: 0 }), registry);
    const { scenes, pixels } = source as unknown as { scenes: Map<string, Scene>; pixels: (id: string) => Uint8Array };
    const set = source.evalSets[0]!;
    const scene = (id: string) => scenes.get(id)!;
    const kinds = new Set(set.queries.map((q) => q.kind));
    expect([...kinds].sort()).toEqual(["add", "mirror", "move", "recolor", "recolor_all", "remove", "resize"]);
    for (const q of set.queries) expect(q.kind).toBe(parseText(world, q.text)!.kind);
    // no query's target is its reference unchanged
    for (const q of set.queries) expect(sceneKey(scene(set.gallery[q.positives[0]!]!))).not.toBe(sceneKey(scene(q.reference)));
    expect(source.train.some((p) => p.text === "mirror the scene left to right")).toBe(true);
    expect(symbolicRecall(set, world, scene, 1)).toBe(1);
    expect(imageOnlyRecall(set, pixels, 10)).toBeLessThan(0.45);
    expect(textOnlyRecall(set, world, scene, 10)).toBeLessThan(0.45);
  });
});
