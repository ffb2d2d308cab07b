// Reading a dataset's annotation files (captions, split lists, label files) through a zod
// schema: every problem is a DataError naming the file, the place (line:col, entry, field)
// and what the file should hold. Messages never quote the file's content: a recipe may point
// a path at a file that is not the dataset's, and its text must not leak through an error.
import { readFile } from "node:fs/promises";
import { findNodeAtLocation, parse as parseJsonc, parseTree, printParseErrorCode, type Node, type ParseError } from "jsonc-parser";
import { z } from "zod";
import { DataError } from "./data-error.js";

/** An image named by a dataset's annotations: a file name (or its stem), never a path. */
export const imageName = z
  .string()
  .min(1, { abort: true })
  .regex(/^(?!\.{1,2}$)[^/\\\0]+$/, "expected an image name (a file name, without folders)");

/** An annotation file and how messages about it read. */
export interface AnnotationFile {
  /** The dataset, first word of every message ("fashioniq"). */
  dataset: string;
  /** Absolute path. */
  file: string;
  /** What the file holds, said after its problems: 'a list of {"target", "candidate", "captions": [...]}'. */
  format: string;
  /** What data.root should hold, said when the file cannot be read. */
  expected: string;
}

/** One problem at a place of the file: line (1-based), column when known. */
export interface FileProblem {
  line: number;
  col?: number;
  message: string;
}

/** At most this many problems are listed; the rest are counted. */
const SHOWN_PROBLEMS = 10;

/** The problems of `src` as one DataError: `FILE:LINE:COL: message` per line, then the file's format. */
export function annotationError(src: AnnotationFile, problems: readonly FileProblem[]): DataError {
  const place = (p: FileProblem) => `${src.file}:${p.line}${p.col ? `:${p.col}` : ""}`;
  const shown = problems.slice(0, SHOWN_PROBLEMS).map((p) => `\n  ${place(p)}: ${p.message}`);
  const more = problems.length > SHOWN_PROBLEMS ? `\n  … and ${problems.length - SHOWN_PROBLEMS} more` : "";
  const count = problems.length === 1 ? "a problem" : `${problems.length} problems`;
  return new DataError(`${src.dataset}: ${src.file} has ${count}:${shown.join("")}${more}\n${src.dataset} expects there ${src.format}.`);
}

/** The text of `src.file`; a missing or unreadable file names what data.root should hold. */
export async function readAnnotationText(src: AnnotationFile): Promise<string> {
  try {
    return await readFile(src.file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "a folder, not a file" : code === "ELOOP" ? "a symbolic link loop" : (code ?? String(err));
    throw new DataError(`${src.dataset}: cannot read ${src.file} (${why}); ${src.expected}`);
  }
}

/** A JSON annotation file, validated; `at` places a later problem (an unknown image name) at a value's path. */
export interface JsonAnnotations<T> {
  data: T;
  /** A problem at the value of `path` (its nearest existing ancestor when the path is absent). */
  at(path: readonly (string | number)[], message: string): FileProblem;
}

/** Reads `src.file` as JSON and validates it with `schema`: every problem at once, located. */
export async function readJsonAnnotations<S extends z.ZodType>(src: AnnotationFile, schema: S): Promise<JsonAnnotations<z.output<S>>> {
  const text = await readAnnotationText(src);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw annotationError(src, [jsonSyntaxProblem(text)]);
  }
  const lines = lineStarts(text);
  let tree: Node | undefined; // parsed with positions only when something is to be placed
  const at = (path: readonly (string | number)[], message: string): FileProblem => {
    tree ??= parseTree(text, [], { disallowComments: true });
    return { ...lineCol(lines, offsetOf(tree, path)), message };
  };
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success) throw annotationError(src, parsed.error.issues.map((issue) => at(issue.path as (string | number)[], issueMessage(issue))));
  return { data: parsed.data, at };
}

/** A line annotation file: each non-empty line's fields (`split`), validated by `schema`, with its line number. */
export async function readLineAnnotations<S extends z.ZodType>(
  src: AnnotationFile,
  split: (line: string) => unknown,
  schema: S,
): Promise<{ line: number; value: z.output<S> }[]> {
  const text = await readAnnotationText(src);
  const out: { line: number; value: z.output<S> }[] = [];
  const problems: FileProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const parsed = schema.safeParse(split(line), { reportInput: true });
    if (parsed.success) out.push({ line: i + 1, value: parsed.data });
    else problems.push(...parsed.error.issues.map((issue) => ({ line: i + 1, message: issueMessage(issue) })));
  });
  if (problems.length === 0 && out.length === 0) problems.push({ line: 1, message: "the file is empty: it lists nothing" });
  if (problems.length) throw annotationError(src, problems);
  return out;
}

/** Where JSON.parse stopped, in words of our own (V8's message quotes the text). */
function jsonSyntaxProblem(text: string): FileProblem {
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  const lines = lineStarts(text);
  if (!first) return { ...lineCol(lines, 0), message: "not valid JSON" };
  return { ...lineCol(lines, first.offset), message: `not valid JSON: ${SYNTAX[printParseErrorCode(first.error)] ?? "unexpected text"}` };
}

const SYNTAX: Record<string, string> = {
  InvalidSymbol: "unexpected character",
  InvalidNumberFormat: "malformed number",
  PropertyNameExpected: 'expected a "quoted" key',
  ValueExpected: "expected a value (a trailing comma?)",
  ColonExpected: "expected ':' after the key",
  CommaExpected: "expected ',' between entries",
  CloseBraceExpected: "expected '}' (the file ends inside a mapping?)",
  CloseBracketExpected: "expected ']' (the file ends inside a list?)",
  EndOfFileExpected: "more text after the end of the JSON value",
  InvalidCommentToken: "comments are not JSON",
  UnexpectedEndOfComment: "comments are not JSON",
  UnexpectedEndOfString: "unterminated string (the file is cut off?)",
  UnexpectedEndOfNumber: "the file ends inside a number",
  InvalidUnicode: "malformed \\u escape",
  InvalidEscapeCharacter: "malformed escape in a string",
  InvalidCharacter: "a control character inside a string",
};

/** One zod issue as `entry [3], "captions": expected a list, got a string` (never the value itself). */
function issueMessage(issue: z.core.$ZodIssue): string {
  return `${pathWords(issue.path as (string | number)[])}: ${issueWhat(issue)}`;
}

function issueWhat(issue: z.core.$ZodIssue): string {
  const input = "input" in issue ? issue.input : undefined;
  switch (issue.code) {
    case "invalid_type":
      return input === undefined ? "missing" : `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}, got ${kindOf(input)}`;
    case "too_small":
      if (issue.origin === "array") return `an empty list; it needs at least ${String(issue.minimum)} ${issue.minimum === 1 ? "entry" : "entries"}`;
      if (issue.origin === "string") return "an empty string";
      return `must be at least ${String(issue.minimum)}`;
    case "invalid_union":
      return `${kindOf(input)}, not any of the expected forms`;
    default:
      return issue.message; // the schema's own message (a refinement), which never quotes the value
  }
}

/** `entry [3], "captions"` for [3, "captions"]; a line file's fields are named by its schema's keys ("score"). */
function pathWords(path: readonly (string | number)[]): string {
  if (path.length === 0) return "the file";
  const [head, ...rest] = path;
  const field = rest.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("").replace(/^\./, "");
  if (typeof head !== "number") return `"${[head, field].filter(Boolean).join(".")}"`;
  return field ? `entry [${head}], "${field}"` : `entry [${head}]`;
}

const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  number: "a number",
  array: "a list",
  object: "a mapping",
  boolean: "true or false",
};

/** The kind of a value, never the value: "a number", "a list", … */
function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return v === "" ? "an empty string" : "a string";
  if (typeof v === "number") return "a number";
  if (typeof v === "boolean") return "true or false";
  return typeof v;
}

/** The offset of the value at `path`, or of its nearest ancestor that exists. */
function offsetOf(tree: Node | undefined, path: readonly (string | number)[]): number {
  if (!tree) return 0;
  for (let n = path.length; n > 0; n--) {
    const node = findNodeAtLocation(tree, path.slice(0, n) as (string | number)[]);
    if (node) return node.offset;
  }
  return tree.offset;
}

/** Offsets where each line starts. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line and column of `offset`. */
function lineCol(starts: readonly number[], offset: number): { line: number; col: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, col: offset - starts[lo]! + 1 };
}
