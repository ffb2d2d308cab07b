import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";

const QUICKSTART = fileURLToPath(new URL("../../recipes/quickstart.yaml", import.meta.url));

describe("sdfn data", () => {
  it("prints the statistics of the recipe's dataset as JSON", async () => {
    let out = "";
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => ((out += String(chunk)), true));
    const code = await main([
      "data",
      QUICKSTART,
      ...["data.train_pairs=40", "data.test_references=4", "data.test_edits=5", "data.test_queries=0", "evaluation.recall_at=[1, 10]"].flatMap((s) => ["--set", s]),
    ]).finally(() => write.mockRestore());
    expect(code).toBe(0);
    const stats = JSON.parse(out);
    expect(stats.dataset).toBe("shapes");
    expect(stats.train).toMatchObject({ pairs: 40, images: 80, missing_images: 0, unknown_tokens: 0 });
    expect(stats.eval.shapes).toMatchObject({ queries: 20, gallery: 20, images: 24, missing_images: 0 });
    expect(stats.vocabulary.size).toBeGreaterThan(10);
    expect(stats.missing_images).toEqual({ count: 0, first: [] });
  });

  it("is a usage error without a recipe", async () => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const code = await main(["data"]).finally(() => err.mockRestore());
    expect(code).toBe(2);
  });
});
