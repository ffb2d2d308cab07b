// A recipe file's bytes → its text, or the one problem that stops it from being read:
// too large, not UTF-8 (UTF-16/32 named by their byte order mark or zero bytes), a binary file.
import type { Problem } from "./problems.js";

/** Recipes are a few kB; anything past this is the wrong file or a generated attack. */
export const MAX_RECIPE_BYTES = 1 << 20;
/** No recipe value (a name, a path) needs more characters than a path may have. */
export const MAX_VALUE_CHARS = 4096;

const BOMS: [bytes: number[], encoding: string, iconv: string][] = [
  [[0xff, 0xfe, 0, 0], "UTF-32 (little-endian)", "UTF-32LE"],
  [[0, 0, 0xfe, 0xff], "UTF-32 (big-endian)", "UTF-32BE"],
  [[0xff, 0xfe], "UTF-16 (little-endian)", "UTF-16LE"],
  [[0xfe, 0xff], "UTF-16 (big-endian)", "UTF-16BE"],
];

/** Decodes `bytes` as UTF-8 (a UTF-8 byte order mark is dropped), or says at which place and why it cannot. */
export function decodeRecipe(bytes: Uint8Array, shown: string): { text: string } | { problem: Problem } {
  const at = (line: number, col: number, message: string) => ({ problem: { file: shown, line, col, message } });
  const utf = otherUnicode(bytes);
  if (utf) {
    return at(1, 1, `the file is ${utf[0]} text; recipes are read as UTF-8: save it as UTF-8 (e.g. iconv -f ${utf[1]} -t UTF-8 FILE)`);
  }
  const text = new TextDecoder("utf-8").decode(bytes).replace(/^\uFEFF/, "");
  if (bytes.length > MAX_RECIPE_BYTES) {
    const long = longLine(text);
    const size = `${(bytes.length / (1 << 20)).toFixed(1)} MiB`;
    if (long) return at(long.line, 1, `this line is ${long.chars} characters long (the file is ${size}): a recipe is at most 1 MiB and a value at most ${MAX_VALUE_CHARS} characters`);
    return at(1, 1, `the file is ${size}: a recipe is at most 1 MiB (is this the right file?)`);
  }
  const nul = text.indexOf("\0");
  if (nul >= 0) return at(...place(text, nul), "a zero byte: this is a binary file, not a YAML recipe");
  const bad = firstInvalid(bytes, text);
  if (bad) {
    return at(...place(text, bad.index), `not UTF-8: byte 0x${bad.byte.toString(16).toUpperCase().padStart(2, "0")} here (Latin-1 or Windows-1252 text?); save the file as UTF-8`);
  }
  return { text };
}

/** [encoding, iconv name] of a UTF-16/32 file: by its byte order mark, else by zero bytes among the first ASCII characters. */
function otherUnicode(bytes: Uint8Array): [string, string] | undefined {
  for (const [mark, name, iconv] of BOMS) if (mark.every((b, i) => bytes[i] === b)) return [name, iconv];
  const head = bytes.subarray(0, 64);
  if (head.length < 4) return undefined;
  const zerosAt = (parity: number) => head.filter((b, i) => i % 2 === parity && b === 0).length;
  const half = Math.floor(head.length / 2);
  if (zerosAt(1) >= half * 0.75 && zerosAt(0) === 0) return ["UTF-16 (little-endian)", "UTF-16LE"];
  if (zerosAt(0) >= half * 0.75 && zerosAt(1) === 0) return ["UTF-16 (big-endian)", "UTF-16BE"];
  return undefined;
}

/**
 * The first byte that is not UTF-8: where the lenient decode put U+FFFD for bytes that were not
 * EF BF BD (a U+FFFD written in the file). The text before it is valid, so its UTF-8 length is the byte offset.
 */
function firstInvalid(bytes: Uint8Array, text: string): { index: number; byte: number } | undefined {
  const bomBytes = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (let i = text.indexOf("\uFFFD"); i >= 0; i = text.indexOf("\uFFFD", i + 1)) {
    const offset = bomBytes + Buffer.byteLength(text.slice(0, i), "utf8");
    if (bytes[offset] !== 0xef || bytes[offset + 1] !== 0xbf || bytes[offset + 2] !== 0xbd) return { index: i, byte: bytes[offset]! };
  }
  return undefined;
}

/** 1-based [line, col] of `index` in `text`. */
function place(text: string, index: number): [number, number] {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < index; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return [line, index - start + 1];
}

/** The first line longer than MAX_VALUE_CHARS, if any. */
function longLine(text: string): { line: number; chars: number } | undefined {
  let line = 1;
  for (let start = 0; start <= text.length; line++) {
    const end = text.indexOf("\n", start);
    const stop = end < 0 ? text.length : end;
    if (stop - start > MAX_VALUE_CHARS) return { line, chars: stop - start };
    if (end < 0) break;
    start = end + 1;
  }
  return undefined;
}
