// CLIP's byte-level BPE tokenizer (src/encoders/clip-bpe.ts): hand-computed ids on a four-merge file,
// truncation that keeps <|endoftext|> last, gzip and bad merges files, the run's vocabulary.json
// round trip, and the same ids as the reference implementation (bench/reference/clip_tokenizer.py)
// on a few hundred real FashionIQ and Shoes captions, with a merges file learned from others.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { ClipBpe, cleanText, MergesFileError, readMerges } from "../../src/encoders/clip-bpe.js";
import { vocabularyFromJSON } from "../../src/data/vocabulary.js";
import { python, ROOT } from "../reference/cases.js";
import { missing, SHARED_DATA } from "../support/requires.js";

const work = mkdtempSync(join(tmpdir(), "sdfn-clip-bpe-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const MERGES = ["l o</w>", "h e", "he l", "hel lo</w>"];
const mergesFile = (name: string, lines: string[], gzip = false) => {
  const file = join(work, name);
  const text = `#version: 0.2\n${lines.join("\n")}\n`;
  writeFileSync(file, gzip ? gzipSync(text) : text);
  return file;
};

// Byte symbols: the printable ASCII characters from "!" (0x21) come first, so "h" is id 0x68 − 0x21
// = 71 and its word-final form 256 + 71; merge k is id 512 + k; then <|startoftext|>, <|endoftext|>.
const id = (c: string, final = false) => c.charCodeAt(0) - 0x21 + (final ? 256 : 0);

describe("CLIP's BPE tokenizer", () => {
  const bpe = new ClipBpe(readMerges(mergesFile("four.txt", MERGES)), 77);

  it("merges by rank, marks word ends, and wraps the text in the markers (ids by hand)", () => {
    expect(bpe.size).toBe(512 + 4 + 2);
    const [sot, eot] = [516, 517];
    // "hello" → h e l l o</w> → h e l lo</w> → he l lo</w> → hel lo</w> → hello</w> (merge 3)
    expect(bpe.encode("Hello  HELLO")).toEqual([sot, 515, 515, eot]);
    // no merge applies to "hi"; "!" is its own piece (not a letter)
    expect(bpe.encode("hi!")).toEqual([sot, id("h"), id("i", true), id("!", true), eot]);
    // contractions split off; "hell" stops at "hel l</w>" (no merge of "hel" and "l</w>")
    expect(bpe.encode("it's hell")).toEqual([sot, id("i"), id("t", true), id("'"), id("s", true), 514, id("l", true), eot]);
    // digits one at a time, also after punctuation
    expect(bpe.encode("-42")).toEqual([sot, id("-", true), id("4", true), id("2", true), eot]);
    expect(bpe.words[515]).toBe("hello</w>");
  });

  it("truncates to the context with <|endoftext|> kept last", () => {
    const short = new ClipBpe(bpe.merges, 3);
    expect(short.encode("hello hello hello")).toEqual([516, 515, 517]);
    expect(short.encode("")).toEqual([516, 517]);
  });

  it("cleans as CLIP does: HTML entities twice, curly quotes, ligatures, full width, whitespace, case", () => {
    expect(cleanText("  Rock &amp;amp; Roll\t\n ")).toBe("rock & roll");
    expect(cleanText("it’s “ﬁne”")).toBe("it's \"fine\"");
    expect(cleanText("ＡＢＣ　x")).toBe("abc x");
    expect(cleanText("cafe\u0301")).toBe("café"); // NFC
  });

  it("reads gzip merges files as CLIP ships them, and names the line of a bad one", () => {
    expect(readMerges(mergesFile("four.txt.gz", MERGES, true))).toEqual(MERGES);
    const bad = mergesFile("bad.txt", ["h e", "not a merge"]);
    expect(() => readMerges(bad)).toThrow(MergesFileError);
    expect(() => readMerges(bad)).toThrow(`${bad}:3: expected a merge "a b"`);
  });

  it("round-trips through a run's vocabulary.json", () => {
    const back = vocabularyFromJSON(JSON.parse(JSON.stringify(bpe.toJSON())), "vocabulary.json");
    expect(back.words).toEqual(bpe.words);
    expect(back.encode("hello, it's me")).toEqual(bpe.encode("hello, it's me"));
    expect(() => vocabularyFromJSON({ format: "sdfn-clip-bpe", version: 1, max_tokens: 77, merges: ["abc"] }, "v.json")).toThrow("v.json: merges[0]");
  });
});

/** Every `step`-th caption of the files, each caption on its own. */
function fashionIqCaptions(split: string, step: number, offset: number): string[] {
  const out: string[] = [];
  for (const category of ["dress", "shirt", "toptee"]) {
    const entries = JSON.parse(readFileSync(join(SHARED_DATA, "fashioniq", "captions", `cap.${category}.${split}.json`), "utf8")) as { captions: string[] }[];
    entries.forEach((e, i) => i % step === offset && out.push(...e.captions));
  }
  return out;
}

describe.skipIf(missing("sharedData", "pythonTorch"))("CLIP's tokenizer against the reference implementation on real captions", () => {
  it("gives the reference's ids on 400+ FashionIQ and Shoes captions, with merges learned from other captions", () => {
    const learnFrom = fashionIqCaptions("train", 10, 0); // ~3000 captions
    const shoes = (JSON.parse(readFileSync(join(SHARED_DATA, "shoes", "relative_captions_shoes.json"), "utf8")) as { RelativeCaption: string }[]).map((e) => e.RelativeCaption);
    const all = [...fashionIqCaptions("train", 1, 0), ...fashionIqCaptions("val", 1, 0)];
    const unusual = all.filter((t) => /[^\x20-\x7e]|&|'/.test(t)); // curly quotes, accents, ampersands, contractions
    const texts = [
      ...fashionIqCaptions("val", 50, 7), // ~240
      ...shoes.filter((_, i) => i % 100 === 3), // ~100
      ...unusual.slice(0, 60),
      `${"very long and ".repeat(30)}red`, // truncated at 77 tokens
      "",
      "Rock &amp; roll’s ﬁne ＡＢＣ 42",
      "size-12, $5.99 (2x) 3/4-sleeve I'LL",
    ];
    expect(texts.length).toBeGreaterThan(400);
    writeFileSync(join(work, "learn.json"), JSON.stringify(learnFrom));
    writeFileSync(join(work, "texts.json"), JSON.stringify(texts));
    const merges = join(work, "learned.txt");
    const out = join(work, "ids.json");
    const r = python([join(ROOT, "bench/reference/clip_tokenizer.py"), "--learn-from", join(work, "learn.json"), "--merges", "400", "--write", merges, "--encode", join(work, "texts.json"), "--context", "77", "--out", out]);
    expect(r.status, r.output).toBe(0);
    const reference = JSON.parse(readFileSync(out, "utf8")) as { vocab_size: number; ids: number[][] };
    const bpe = new ClipBpe(readMerges(merges), 77);
    expect(bpe.size).toBe(reference.vocab_size);
    expect(bpe.size).toBe(512 + 400 + 2);
    const ours = texts.map((t) => bpe.encode(t));
    const differing = texts.filter((_, i) => JSON.stringify(ours[i]) !== JSON.stringify(reference.ids[i]));
    expect(differing).toEqual([]);
    // the merges matter: most captions get fewer tokens than characters, and the long one is cut at 77
    expect(ours.filter((ids, i) => ids.length - 2 < texts[i]!.replace(/\s/g, "").length).length).toBeGreaterThan(texts.length * 0.9);
    expect(ours[texts.length - 4]!.length).toBe(77);
  });
});
