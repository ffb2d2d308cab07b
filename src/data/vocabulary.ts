// Tokenizer and vocabulary: lowercase words split at punctuation and spaces; ids
// <pad> = 0, <unk> = 1, then training words by count. Saved as JSON with a run so
// evaluation and queries tokenize exactly as training did.
import { existsSync } from "node:fs";
import { replaceFile } from "../io/owned-files.js";
import { DamagedFileError, readJsonFile } from "../util/json-file.js";
import type { Vocabulary } from "./types.js";
import { clipBpeFromJSON } from "../encoders/clip-bpe.js";

export const PAD = 0;
export const UNK = 1;
const SPECIALS = ["<pad>", "<unk>"] as const;

// Letters/digits runs, keeping inner apostrophes ("don't"); punctuation separates words and is dropped.
const WORD = /[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*/gu;

/** "Is Shiny, and SILVER!" → ["is", "shiny", "and", "silver"] */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

export interface VocabularyJSON {
  format: "sdfn-vocabulary";
  version: 1;
  min_count: number;
  words: string[];
}

class WordVocabulary implements Vocabulary {
  readonly words: readonly string[];
  private readonly index: Map<string, number>;

  constructor(
    words: readonly string[],
    readonly minCount: number,
  ) {
    this.words = Object.freeze(words.slice());
    this.index = new Map(words.map((w, i) => [w, i]));
  }

  get size(): number {
    return this.words.length;
  }

  encode(text: string): number[] {
    return tokenize(text).map((w) => this.index.get(w) ?? UNK);
  }

  toJSON(): VocabularyJSON {
    return { format: "sdfn-vocabulary", version: 1, min_count: this.minCount, words: [...this.words] };
  }
}

/** Vocabulary of the words seen at least `minCount` times in `texts` (count desc, then alphabetical). */
export function buildVocabulary(texts: Iterable<string>, minCount = 1): Vocabulary {
  const counts = new Map<string, number>();
  for (const text of texts) for (const w of tokenize(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const kept = [...counts]
    .filter(([w, n]) => n >= minCount && !(SPECIALS as readonly string[]).includes(w))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([w]) => w);
  return new WordVocabulary([...SPECIALS, ...kept], minCount);
}

/** The vocabulary a `toJSON()` produced; throws with the reason when the object is not one. */
export function vocabularyFromJSON(json: unknown, where = "vocabulary"): Vocabulary {
  if ((json as { format?: unknown } | null)?.format === "sdfn-clip-bpe") return clipBpeFromJSON(json, where); // a CLIP text encoder's tokenizer
  const v = json as Partial<VocabularyJSON> | null;
  if (!v || v.format !== "sdfn-vocabulary" || v.version !== 1 || !Array.isArray(v.words)) {
    throw new Error(`${where}: not an sdfn vocabulary (expected {"format": "sdfn-vocabulary", "version": 1, "words": [...]})`);
  }
  if (v.words[PAD] !== SPECIALS[0] || v.words[UNK] !== SPECIALS[1]) {
    throw new Error(`${where}: words must start with "<pad>", "<unk>"; got ${JSON.stringify(v.words.slice(0, 2))}`);
  }
  return new WordVocabulary(v.words, v.min_count ?? 1);
}

export async function saveVocabulary(vocabulary: Vocabulary, file: string): Promise<void> {
  replaceFile(file, `${JSON.stringify(vocabulary.toJSON())}\n`);
}

// A run's vocabulary is the training captions' words: the run's own recipe rebuilds the same one.
const REBUILD = "a run tokenizes with the vocabulary it trained with; restore the file from a copy, or train the recipe again (its training captions give the same vocabulary)";

/** A run's vocabulary.json; a missing or damaged file is a DamagedFileError naming it and the fix. */
export async function loadVocabulary(file: string): Promise<Vocabulary> {
  if (!existsSync(file)) throw new DamagedFileError(`${file} is missing; ${REBUILD}`);
  try {
    return vocabularyFromJSON(readJsonFile(file, REBUILD), file);
  } catch (err) {
    if (err instanceof DamagedFileError) throw err;
    throw new DamagedFileError(`${(err as Error).message}; ${REBUILD}`);
  }
}

/** Tokens and unknown tokens over `texts` (the out-of-vocabulary rate of a split). */
export function countUnknown(vocabulary: Vocabulary, texts: Iterable<string>): { tokens: number; unknown: number } {
  let tokens = 0;
  let unknown = 0;
  for (const text of texts) {
    for (const id of vocabulary.encode(text)) {
      tokens++;
      if (id === UNK) unknown++;
    }
  }
  return { tokens, unknown };
}
