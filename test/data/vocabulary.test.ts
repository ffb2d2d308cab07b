import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildVocabulary, countUnknown, loadVocabulary, saveVocabulary, tokenize, vocabularyFromJSON } from "../../src/data/vocabulary.js";

describe("tokenizer and vocabulary", () => {
  it("lowercases and splits at punctuation, keeping inner apostrophes", () => {
    expect(tokenize("Is Shiny,and SILVER!  doesn't-fit (v-neck)")).toEqual(["is", "shiny", "and", "silver", "doesn't", "fit", "v", "neck"]);
  });

  it("keeps words seen min_count times, by count then alphabetically, after <pad> and <unk>", () => {
    const v = buildVocabulary(["a red dress", "A blue dress", "red, red!"], 2);
    expect(v.words).toEqual(["<pad>", "<unk>", "red", "a", "dress"]);
    expect(v.encode("A green dress")).toEqual([3, 1, 4]);
    expect(countUnknown(v, ["a green dress", "blue"])).toEqual({ tokens: 4, unknown: 2 });
  });

  it("round-trips through JSON so evaluation tokenizes as training did", async () => {
    const v = buildVocabulary(["make the red circle blue"]);
    const dir = await mkdtemp(join(tmpdir(), "sdfn-vocab-"));
    await saveVocabulary(v, join(dir, "vocabulary.json"));
    const back = await loadVocabulary(join(dir, "vocabulary.json"));
    await rm(dir, { recursive: true });
    expect(back.words).toEqual(v.words);
    expect(back.encode("make the blue circle red")).toEqual(v.encode("make the blue circle red"));
    expect(() => vocabularyFromJSON({ words: ["a"] }, "runs/x/vocabulary.json")).toThrow(/runs\/x\/vocabulary.json: not an sdfn vocabulary/);
  });
});
