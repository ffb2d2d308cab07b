// GloVe vectors from a local text file ("word v1 v2 … vD" per line), read in chunks so a
// multi-gigabyte file never sits in memory: only the vocabulary's words are kept. The file's
// SHA-256 is computed on the same pass (a run records which file it started from).
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { GloveStats } from "../registry/kinds.js";
import { PretrainedFileError } from "./pretrained.js";

/** Vocabulary entries such as <pad>, <unk>, <eos>. */
const SPECIAL = /^<[^<>\s]+>$/;

export interface GloveTable {
  /** Row i = the vector of vocabulary word i, or null when the file lacks it. */
  rows: (Float32Array | null)[];
  stats: GloveStats;
  /** Hex SHA-256 and size of the whole file. */
  sha256: string;
  bytes: number;
}

/** Where the paper's vectors come from (Pennington et al.; Common Crawl, 2.2 M words, cased). */
const GLOVE_840B = "https://nlp.stanford.edu/data/glove.840B.300d.zip";

/** The commands that fetch a GloVe file to `path` (run where the internet is). */
export function gloveSteps(path: string): string {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  return /840B\.300d/.test(path)
    ? `download GloVe 840B.300d (a 2.0 GB zip holding the 5.6 GB text file) on a machine with internet access: ` +
        `mkdir -p ${dir} && curl -L -o glove.840B.300d.zip ${GLOVE_840B} && unzip -p glove.840B.300d.zip glove.840B.300d.txt > ${path}`
    : `download the GloVe vectors from https://nlp.stanford.edu/projects/glove/ and unzip the .txt file to ${path}`;
}

/**
 * Looks up every vocabulary word in `file` (as written first, then lower-cased).
 * Throws when the file's vectors are not `dim`-dimensional.
 */
export function loadGlove(file: string, words: readonly string[], dim: number): GloveTable {
  const wanted = new Map<string, number[]>();
  const want = (key: string, i: number) => {
    const list = wanted.get(key);
    if (list) list.push(i);
    else wanted.set(key, [i]);
  };
  // a word is looked up as written and, failing that, lower-cased (GloVe is mostly lower case)
  words.forEach((w, i) => {
    want(w, i);
    if (w.toLowerCase() !== w) want(w.toLowerCase(), i);
  });
  const rows: (Float32Array | null)[] = words.map(() => null);
  const exact = new Set<number>();
  let lineNo = 0;
  const { sha256, bytes } = forEachLine(file, (line) => {
    lineNo++;
    const space = line.indexOf(" ");
    if (space <= 0) return;
    const word = line.slice(0, space);
    const targets = wanted.get(word);
    if (!targets) return;
    const values = line.slice(space + 1).trim().split(" ");
    if (values.length !== dim) {
      throw new PretrainedFileError("glove", `${file}:${lineNo}: GloVe vectors have ${values.length} values but embedding_dim is ${dim}; set embedding_dim: ${values.length}`);
    }
    const vector = Float32Array.from(values, Number);
    for (const i of targets) {
      // an exact-case line wins over a lower-cased match found earlier
      if (exact.has(i)) continue;
      if (words[i] === word) exact.add(i);
      rows[i] = vector;
    }
  });
  // special tokens (<pad>, <unk>, …) are never in GloVe: they are not counted as missing
  const counted = words.map((w, i) => [w, i] as const).filter(([w]) => !SPECIAL.test(w));
  const missingWords = counted.filter(([, i]) => rows[i] === null).map(([w]) => w);
  return {
    rows,
    stats: { file, found: counted.length - missingWords.length, missing: missingWords.length, missingExamples: missingWords.slice(0, 20) },
    sha256,
    bytes,
  };
}

/** Calls `fn` for each line of a (possibly huge) text file, 4 MiB at a time; returns the file's SHA-256 and size. */
function forEachLine(file: string, fn: (line: string) => void): { sha256: string; bytes: number } {
  const fd = openSync(file, "r");
  try {
    const chunk = Buffer.alloc(4 << 20);
    const decoder = new StringDecoder("utf8"); // keeps a character split across chunks whole
    const hash = createHash("sha256");
    let bytes = 0;
    let rest = "";
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
      bytes += n;
      const text = rest + decoder.write(chunk.subarray(0, n));
      const lines = text.split("\n");
      rest = lines.pop()!;
      for (const line of lines) fn(line.endsWith("\r") ? line.slice(0, -1) : line);
    }
    if (rest) fn(rest);
    return { sha256: hash.digest("hex"), bytes };
  } finally {
    closeSync(fd);
  }
}
