// CLIP's byte-level BPE tokenizer (Radford et al. 2021; the algorithm of OpenAI's
// simple_tokenizer.py): clean the text, lower-case it, pre-split it with CLIP's pattern, map
// each piece's UTF-8 bytes to printable characters, merge pairs by rank from the merges file,
// and wrap the ids in <|startoftext|> … <|endoftext|>, truncated with the end marker kept last.
// A run keeps the merges in its vocabulary.json, so evaluation tokenizes as training did.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import type { Vocabulary } from "../data/types.js";

export const START_OF_TEXT = "<|startoftext|>";
export const END_OF_TEXT = "<|endoftext|>";
/** CLIP reads at most this many merges (49152 − 256 − 2): 512 byte tokens + merges + 2 markers = 49408 ids. */
export const MAX_MERGES = 49152 - 256 - 2;
/** Ids of the 512 byte tokens before the first merge. */
const BYTE_TOKENS = 512;

/** GPT-2's reversible map from bytes to printable characters (the printable Latin-1 ones map to themselves). */
function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (const [from, to] of [[0x21, 0x7e], [0xa1, 0xac], [0xae, 0xff]] as const) for (let b = from; b <= to; b++) printable.push(b);
  const order = [...printable];
  const chars = printable.map((b) => String.fromCodePoint(b));
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (printable.includes(b)) continue;
    order.push(b);
    chars.push(String.fromCodePoint(256 + extra++));
  }
  // chars[i] is the character of byte order[i]: by byte value, and in CLIP's id order (the list order)
  const byByte: string[] = new Array(256);
  order.forEach((b, i) => (byByte[b] = chars[i]!));
  return [...chars, ...byByte]; // [0, 256): id order; [256, 512): by byte value
}
const BYTE_MAP = bytesToUnicode();
/** The 256 byte characters in CLIP's id order. */
const BYTE_CHARS = BYTE_MAP.slice(0, 256);
/** Byte value → its character. */
const BYTE_ENCODER = BYTE_MAP.slice(256);

/** CLIP's pre-split: the markers, English contractions, letter runs, single digits, other non-space runs. */
const PIECE = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\p{White_Space}\p{L}\p{N}]+/giu;
/** Whitespace as CLIP's `regex` patterns read \s: Unicode's White_Space property. */
const SPACES = /\p{White_Space}+/gu;
const EDGE_SPACES = /^\p{White_Space}+|\p{White_Space}+$/gu;

// ── cleaning (CLIP's basic_clean + whitespace_clean) ──────────────────────────
// CLIP first runs ftfy.fix_text; the deterministic parts of it are done here: NFC, curly quotes
// to straight ones, Latin ligatures and full-width forms to ASCII. ftfy's mojibake repair is not.
const LIGATURES: Record<string, string> = { "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "ſt", "\ufb06": "st" };

/** The ftfy steps above. */
function fixText(text: string): string {
  return text
    .normalize("NFC")
    .replace(/[\u02bc\u2018-\u201b]/g, "'")
    .replace(/[\u201c-\u201f]/g, '"')
    .replace(/[\ufb00-\ufb06]/g, (c) => LIGATURES[c]!)
    .replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, " ");
}

const NAMED_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

/** HTML character references: numeric ones and the common named ones (amp, lt, gt, quot, apos, nbsp). */
function unescapeHtml(text: string): string {
  return text.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref[0] !== "#") return NAMED_ENTITIES[ref] ?? whole;
    const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    // as Python's html.unescape: no code point, a surrogate or NUL becomes U+FFFD
    return code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || code === 0 ? "\ufffd" : String.fromCodePoint(code);
  });
}

/** CLIP's cleaning: fix the text, unescape HTML twice, collapse whitespace, lower-case. */
export function cleanText(text: string): string {
  return unescapeHtml(unescapeHtml(fixText(text)))
    .replace(SPACES, " ")
    .replace(EDGE_SPACES, "")
    .toLowerCase();
}

/** A merges file that cannot be used: which file and line, and what is wrong. */
export class MergesFileError extends Error {
  override name = "MergesFileError";
}

/** The merges of a CLIP merges file (`a b` per line after a `#version` header; gzip or plain text), at most MAX_MERGES. */
export function readMerges(file: string): string[] {
  const bytes = readFileSync(file);
  const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString("utf8");
  const lines = text.split("\n");
  const first = lines[0]?.startsWith("#") ? 1 : 0; // CLIP's files open with "#version: 0.2"
  const merges: string[] = [];
  for (let i = first; i < lines.length && merges.length < MAX_MERGES; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line === "" && lines.slice(i + 1).every((l) => l.trim() === "")) break; // trailing newline(s)
    if (line.split(" ").length !== 2 || line.includes("  ")) {
      throw new MergesFileError(`${file}:${i + 1}: expected a merge "a b" (two symbols and one space), got ${line.length > 40 ? "a longer line" : JSON.stringify(line)}; is this CLIP's bpe_simple_vocab_16e6.txt(.gz)?`);
    }
    merges.push(line);
  }
  if (merges.length === 0) throw new MergesFileError(`${file}: no merges in it; give CLIP's bpe_simple_vocab_16e6.txt.gz`);
  return merges;
}

export interface ClipBpeJSON {
  format: "sdfn-clip-bpe";
  version: 1;
  /** Tokens a text keeps, the markers included. */
  max_tokens: number;
  merges: string[];
}

/** CLIP's tokenizer over `merges`; `encode` gives [SOT, …, EOT] truncated to `maxTokens` with EOT kept last. */
export class ClipBpe implements Vocabulary {
  readonly words: readonly string[];
  private readonly ids: Map<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, string[]>();
  readonly startOfText: number;
  readonly endOfText: number;

  constructor(
    readonly merges: readonly string[],
    readonly maxTokens: number,
  ) {
    if (!(maxTokens >= 2)) throw new Error(`ClipBpe: maxTokens must leave room for the two markers, got ${maxTokens}`);
    const words = [...BYTE_CHARS, ...BYTE_CHARS.map((c) => `${c}</w>`), ...merges.map((m) => m.replace(" ", "")), START_OF_TEXT, END_OF_TEXT];
    this.words = Object.freeze(words);
    this.ids = new Map(words.map((w, i) => [w, i]));
    this.ranks = new Map(merges.map((m, i) => [m, i]));
    this.startOfText = words.length - 2;
    this.endOfText = words.length - 1;
  }

  get size(): number {
    return this.words.length;
  }

  /** The BPE symbols of one pre-split piece (its byte characters), merged by rank. */
  private bpe(piece: string): string[] {
    const known = this.cache.get(piece);
    if (known) return known;
    const chars = [...piece];
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`];
    while (word.length > 1) {
      // the adjacent pair of lowest rank; none ranked: done
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) [best, bestRank] = [i, rank];
      }
      if (best < 0) break;
      const [first, second] = [word[best]!, word[best + 1]!];
      // merge every non-overlapping occurrence of the pair, left to right
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (word[i] === first && word[i + 1] === second && i + 1 < word.length) {
          merged.push(first + second);
          i += 2;
        } else merged.push(word[i++]!);
      }
      word = merged;
    }
    this.cache.set(piece, word);
    return word;
  }

  /** Ids of the cleaned text's BPE tokens, without markers or truncation. */
  encodeText(text: string): number[] {
    const out: number[] = [];
    for (const [piece] of cleanText(text).matchAll(PIECE)) {
      if (piece === START_OF_TEXT || piece === END_OF_TEXT) {
        out.push(this.ids.get(piece)!);
        continue;
      }
      const chars = [...Buffer.from(piece, "utf8")].map((b) => BYTE_ENCODER[b]!).join("");
      for (const symbol of this.bpe(chars)) out.push(this.ids.get(symbol)!);
    }
    return out;
  }

  encode(text: string): number[] {
    const ids = [this.startOfText, ...this.encodeText(text), this.endOfText];
    if (ids.length <= this.maxTokens) return ids;
    const kept = ids.slice(0, this.maxTokens);
    kept[kept.length - 1] = this.endOfText; // CLIP's truncate=True
    return kept;
  }

  toJSON(): ClipBpeJSON {
    return { format: "sdfn-clip-bpe", version: 1, max_tokens: this.maxTokens, merges: [...this.merges] };
  }
}

/** The tokenizer a `toJSON()` produced; throws with the reason when the object is not one. */
export function clipBpeFromJSON(json: unknown, where: string): ClipBpe {
  const v = json as Partial<ClipBpeJSON> | null;
  if (!v || v.format !== "sdfn-clip-bpe" || v.version !== 1 || !Array.isArray(v.merges) || !Number.isInteger(v.max_tokens)) {
    throw new Error(`${where}: not an sdfn CLIP tokenizer (expected {"format": "sdfn-clip-bpe", "version": 1, "max_tokens": N, "merges": [...]})`);
  }
  const bad = v.merges.findIndex((m) => typeof m !== "string" || m.split(" ").length !== 2);
  if (bad >= 0) throw new Error(`${where}: merges[${bad}] is not "a b"`);
  return new ClipBpe(v.merges, v.max_tokens!);
}
