import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/index.js";
import { train } from "../../src/run/train.js";

tf.env().set("IS_TEST", true);

const scratch = mkdtempSync(join(tmpdir(), "sdfn-quickstart-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("recipes/quickstart.yaml, reduced", () => {
  it("learns composed retrieval: test R@10 far above chance after a few seconds of training", async () => {
    // The quickstart's network and losses as they are; less data: 400 training pairs, one
    // pass in batches of 16, and a 16 × 16 gallery (256 targets: chance R@10 = 10/256 ≈ 3.9%).
    const loaded = await loadRecipe(join(import.meta.dirname, "..", "..", "recipes", "quickstart.yaml"), {
      sets: [
        "data.train_pairs=400",
        "data.test_references=16",
        "data.test_edits=16",
        "data.test_queries=128",
        "training.epochs=1",
        "training.batch_size=16",
        "training.schedule={type: step}",
      ],
    });
    const summary = await train(loaded, { outDir: join(scratch, "run"), onEvent: () => {} });
    const chance = (100 * 10) / 256;
    expect(summary.recall["R@10"]).toBeGreaterThan(3 * chance);
  });
});
