// FashionIQ's query forms: the texts a pair's captions give in each form, the training form
// following the query form unless train_form says otherwise, and older recipes' `reversed_captions`
// read as the form they meant. The forms against the peers' own code: test/eval/peer-protocols.test.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/builtins.js";
import { captionTexts } from "../../src/data/datasets/fashioniq.js";
import { loadDatasetSource } from "../../src/data/index.js";
import { loadRecipe } from "../../src/recipe/index.js";
import { ROOT } from "../support/cli.js";

const scratch = mkdtempSync(join(tmpdir(), "sdfn-query-forms-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("captionTexts", () => {
  const captions = [" is red ", "has long sleeves"];
  it("per_caption: one text per caption, trimmed (VAL)", () => {
    expect(captionTexts(captions, "per_caption", "and")).toEqual(["is red", "has long sleeves"]);
  });
  it("joined: one text per pair (CLIP4Cir); both_orders: that and the reverse (CoSMo, ARTEMIS)", () => {
    expect(captionTexts(captions, "joined", "and")).toEqual(["is red and has long sleeves"]);
    expect(captionTexts(captions, "both_orders", "and")).toEqual(["is red and has long sleeves", "has long sleeves and is red"]);
    expect(captionTexts(captions, "joined", "+")).toEqual(["is red + has long sleeves"]);
  });
  it("an empty caption: not posed alone (VAL skips it), kept in its place in a joined text (as the peers' tokens are)", () => {
    expect(captionTexts(["  ", "is grey"], "per_caption", "and")).toEqual(["is grey"]);
    expect(captionTexts(["  ", "is grey"], "both_orders", "and")).toEqual(["and is grey", "is grey and"]);
    expect(captionTexts([""], "joined", "and")).toEqual([]);
    expect(captionTexts(["one caption"], "both_orders", "and")).toEqual(["one caption"]);
  });
});

describe("query_form and train_form in the FashionIQ reader", () => {
  const root = join(scratch, "fiq");
  mkdirSync(join(root, "captions"), { recursive: true });
  const pairs = [
    { candidate: "A", target: "B", captions: ["is red", "has sleeves"] },
    { candidate: "B", target: "C", captions: ["", "is blue"] },
  ];
  writeFileSync(join(root, "captions", "cap.dress.train.json"), JSON.stringify(pairs));
  writeFileSync(join(root, "captions", "cap.dress.val.json"), JSON.stringify(pairs));
  const open = (data: Record<string, unknown>) => loadDatasetSource({ seed: 0, data: { dataset: "fashioniq", root, categories: ["dress"], ...data } }, createRegistry());

  it("per_caption is the default, for training texts and queries alike", async () => {
    const { source } = await open({});
    expect(source.train.map((p) => [p.id, p.reference, p.text])).toEqual([
      [0, "A", "is red"],
      [1, "A", "has sleeves"],
      [2, "B", "is blue"],
    ]);
    expect(source.evalSets[0]!.queries.map((q) => q.text)).toEqual(["is red", "has sleeves", "is blue"]);
  });

  it("train_form: both_orders trains on both orders while the queries stay joined", async () => {
    const { source } = await open({ query_form: "joined", train_form: "both_orders" });
    expect(source.train.map((p) => p.text)).toEqual(["is red and has sleeves", "has sleeves and is red", "and is blue", "is blue and"]);
    expect(source.evalSets[0]!.queries.map((q) => q.text)).toEqual(["is red and has sleeves", "and is blue"]);
  });
});

describe("recipes written with reversed_captions", () => {
  const recipe = (value: string) => {
    const file = join(scratch, `old-${value}.yaml`);
    writeFileSync(file, `extends: ${join(ROOT, "recipes/sdfn-fashioniq.yaml")}\ndata:\n  dataset: fashioniq\n  reversed_captions: ${value}\n`);
    return file;
  };

  it.each([
    ["none", { query_form: "joined", train_form: "same" }],
    ["train", { query_form: "joined", train_form: "both_orders" }],
    ["train_and_eval", { query_form: "both_orders", train_form: "same" }],
  ])("reversed_captions: %s reads as %o", async (value, forms) => {
    const { recipe: r } = await loadRecipe(recipe(value));
    expect(r.data).toMatchObject(forms);
    expect(r.data).not.toHaveProperty("reversed_captions");
  });

  it("an unknown value is reported where it stood, under the new key", async () => {
    const err = (await loadRecipe(recipe("sideways")).catch((e: Error) => e)) as Error;
    expect(err.message).toContain(`${join(scratch, "old-sideways.yaml")}:4:22: error: data.query_form: expected one of per_caption, both_orders, joined; got "sideways"`);
  });
});
