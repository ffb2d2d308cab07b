// Reads one YAML recipe file into a Located tree: plain values plus the line:col of
// every key and value. Syntax errors and duplicate keys become positioned problems.
import { readFile } from "node:fs/promises";
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from "yaml";
import type { Located, Path, Pos, Where } from "./located.js";
import { pathKey, PROTOTYPE_KEYS, prototypeKeyMessage } from "./located.js";
import type { Problem } from "./problems.js";
import { decodeRecipe, MAX_VALUE_CHARS } from "./text-source.js";

/** Values reached through aliases, at most: a few aliases in a recipe repeat tens of values, a "billion laughs" file billions. */
const MAX_ALIASED_VALUES = 10_000;

export interface ParsedFile {
  /** Undefined when the file could not be read or has syntax errors. */
  located?: Located;
  problems: Problem[];
}

/** Reads and parses `abs`; `shown` is the name problems use (usually relative to the working directory). */
export async function readYamlFile(abs: string, shown: string): Promise<ParsedFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory, not a recipe" : String(err);
    return { problems: [{ file: shown, line: 0, col: 0, message: `cannot read the recipe: ${why}` }] };
  }
  const decoded = decodeRecipe(bytes, shown);
  if ("problem" in decoded) return { problems: [decoded.problem] };
  return parseYaml(decoded.text, shown);
}

/** Parses YAML text into a Located tree (`shown` names the file in problems). */
export function parseYaml(text: string, shown: string): ParsedFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): Pos => lines.linePos(offset);
  const problems: Problem[] = [];
  const problem = (offset: number, message: string) => problems.push({ file: shown, ...at(offset), message });

  const syntaxLines = new Set<number>();
  let fatal = false;
  for (const e of doc.errors) {
    if (e.code === "DUPLICATE_KEY") {
      problem(e.pos[0], duplicateKeyMessage(doc, e.pos[0], at));
      continue;
    }
    fatal = true;
    // One problem per line: the YAML parser often reports a cascade from one mistake.
    const offset = opening(text, e.message, e.pos[0]) ?? e.pos[0];
    const { line } = at(offset);
    if (syntaxLines.has(line)) continue;
    syntaxLines.add(line);
    problem(offset, `YAML syntax: ${syntaxMessage(e.code, e.message)}`);
  }
  if (fatal) return { problems };

  const places = new Map<string, Where>();
  let aliased = 0; // values visited below an alias, over the whole file
  let bombAt: number | undefined;
  const toValue = (node: unknown, path: Path, key: Pos | undefined, depth: number, viaAlias = false): unknown => {
    if (node === null || node === undefined) return null;
    const n = node as Node;
    const where: Where = { file: shown, value: n.range ? at(n.range[0]) : (key ?? { line: 1, col: 1 }), key };
    places.set(pathKey(path), where);
    if (bombAt !== undefined) return null;
    if (viaAlias && ++aliased > MAX_ALIASED_VALUES) {
      bombAt = n.range?.[0] ?? 0;
      return null;
    }
    if (depth > 64) {
      problem(n.range?.[0] ?? 0, "nesting is too deep (an alias that refers to itself?)");
      return null;
    }
    if (isAlias(n)) {
      const target = n.resolve(doc);
      if (!target) {
        problem(n.range![0], `unknown alias "*${n.source}": define it first with "&${n.source}"`);
        return null;
      }
      const value = toValue(target, path, key, depth + 1, true);
      if (bombAt !== undefined && aliased === MAX_ALIASED_VALUES + 1) {
        aliased++; // report once, at the outermost alias being expanded when the limit was crossed
        problem(n.range![0], `aliases expand to more than ${MAX_ALIASED_VALUES} values (a YAML "billion laughs" file?): write the values out, or alias fewer of them`);
      }
      places.set(pathKey(path), where);
      return value;
    }
    if (isScalar(n)) {
      if (typeof n.value === "string" && n.value.length > MAX_VALUE_CHARS) {
        problem(n.range![0], `a value of ${n.value.length} characters: recipe values are at most ${MAX_VALUE_CHARS} (is this the right file?)`);
        return null;
      }
      return n.value;
    }
    if (isSeq(n)) return n.items.map((item, i) => toValue(item, [...path, i], undefined, depth + 1, viaAlias));
    if (isMap(n)) {
      const out: Record<string, unknown> = {};
      for (const pair of n.items) {
        if (!isScalar(pair.key) || (typeof pair.key.value !== "string" && typeof pair.key.value !== "number")) {
          const offset = (pair.key as Node | null)?.range?.[0] ?? n.range![0];
          problem(offset, "keys must be plain names (a complex or empty key is not allowed)");
          continue;
        }
        const name = String(pair.key.value);
        if (PROTOTYPE_KEYS.includes(name)) {
          problem(pair.key.range![0], prototypeKeyMessage(name));
          continue;
        }
        if (Object.hasOwn(out, name)) continue; // reported as a duplicate key
        const keyPos = at(pair.key.range![0]);
        const value = pair.value ?? null;
        out[name] = toValue(value, [...path, name], keyPos, depth + 1, viaAlias);
        if (value === null) places.set(pathKey([...path, name]), { file: shown, value: keyPos, key: keyPos });
      }
      return out;
    }
    return null;
  };

  const tree = toValue(doc.contents, [], undefined, 0);
  // A broken alias or key leaves a hole in the tree: validating it would only repeat the problem.
  if (problems.some((p) => !p.message.startsWith("duplicate key"))) return { problems };
  if (doc.contents === null || tree === null) {
    problems.push({ file: shown, line: 1, col: 1, message: "the recipe is empty: expected a mapping (version, name, data, encoders, fusion, ...)" });
    return { problems };
  }
  if (!isMap(doc.contents)) {
    problem(doc.contents.range?.[0] ?? 0, "a recipe is a mapping of sections (version: 1, data: ..., fusion: ...), not a list or a value");
    return { problems };
  }
  return { located: { tree, places }, problems };
}

function duplicateKeyMessage(doc: Document, offset: number, at: (o: number) => Pos): string {
  let message = "duplicate key";
  visit(doc, {
    Map(_, map) {
      const pairs = map.items.filter(isPair);
      const dup = pairs.find((p) => isScalar(p.key) && p.key.range?.[0] === offset);
      if (!dup || !isScalar(dup.key)) return undefined;
      const name = String(dup.key.value);
      const first = pairs.find((p) => isScalar(p.key) && String(p.key.value) === name);
      const firstAt = first && isScalar(first.key) && first.key.range ? at(first.key.range[0]) : undefined;
      message = `duplicate key "${name}"${firstAt ? ` (first set at line ${firstAt.line}:${firstAt.col})` : ""}; keep one of them`;
      return visit.BREAK;
    },
  });
  return message;
}

function syntaxMessage(code: string, message: string): string {
  const quote = /Missing closing (["'])quote/.exec(message)?.[1];
  if (quote) return `unclosed string: add the closing ${quote}`;
  const bracket = /end with an? ([\]}])/.exec(message)?.[1];
  if (bracket) {
    return `unclosed ${bracket === "]" ? "[" : "{"}: add the closing ${bracket} (a flow list or mapping that goes on over lines must be indented more than its key)`;
  }
  const first = message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  if (code === "MULTIPLE_DOCS") return "a recipe is one YAML document; remove the `---` separator";
  if (code === "TAB_AS_INDENT") return "tabs are not allowed for indentation; use spaces";
  return first.charAt(0).toLowerCase() + first.slice(1);
}

/**
 * The parser reports an unclosed quote or bracket where the file ends or the next
 * key starts; the place to fix is the opening one. Returns its offset, or undefined.
 */
function opening(text: string, message: string, offset: number): number | undefined {
  const quote = /Missing closing (["'])quote/.exec(message)?.[1];
  if (quote) {
    for (let i = Math.min(offset, text.length) - 1; i >= 0; i--) {
      if (text[i] !== quote) continue;
      if (quote === '"' && text[i - 1] === "\\") continue;
      if (quote === "'" && (text[i - 1] === "'" || text[i + 1] === "'")) continue;
      return i;
    }
    return undefined;
  }
  const bracket = /end with an? ([\]}])/.exec(message)?.[1];
  if (bracket) {
    const open = bracket === "]" ? "[" : "{";
    let depth = 0;
    for (let i = Math.min(offset, text.length) - 1; i >= 0; i--) {
      if (text[i] === bracket) depth++;
      else if (text[i] === open && depth-- === 0) return i;
    }
  }
  return undefined;
}
