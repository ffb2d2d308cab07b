// The import structure of src/, drawn from the files themselves, and the rules it
// must keep (docs/architecture.md): an explicit layer order, imports only down
// the layers (a type-only import may go anywhere), no import between siblings of
// one layer, no cycle (type-only imports included), no source file over 400 lines.
// `npx tsx scripts/structure.ts` prints it and exits 1 on a problem;
// test/structure.test.ts holds src/ to it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/**
 * Lowest first. A group is a folder of src/ (or a top-level file without .ts);
 * groups in one inner list are siblings: neither may import the other.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["util", "io"],
  ["backend"],
  ["nn"],
  ["registry"],
  ["encoders", "modules", "routers"],
  ["graph"],
  ["data"],
  ["train", "eval"],
  ["builtins", "recipe"],
  ["dist"],
  ["run"],
  ["infer"],
  ["catalogue", "export"],
  ["serve"],
  ["view"],
  ["report"],
  ["sweep"],
  ["compare"],
  ["cli"],
  ["index"],
];
// builtins and recipe share a layer but recipe imports builtins (the list of every
// built-in is what a recipe is validated against): allowed explicitly.
const ALLOWED_SIBLING_IMPORTS = new Set(["recipe->builtins"]);

export const MAX_LINES = 400;

export interface ImportEdge {
  from: string; // file, relative to src/
  to: string;
  typeOnly: boolean;
  line: number;
}

export interface Structure {
  files: Map<string, number>; // file → lines
  edges: ImportEdge[];
}

/** The group of a file: its first folder under src/, or its name for a top-level file. */
export const groupOf = (file: string) => (file.includes("/") ? file.split("/")[0]! : file.replace(/\.(tsx?|mjs)$/, ""));

const layerOf = (group: string) => LAYERS.findIndex((l) => l.includes(group));

function listSources(dir: string, root: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) listSources(path, root, out);
    else if (/\.(tsx?|mjs)$/.test(name) && !name.endsWith(".d.ts")) out.push(relative(root, path).split(sep).join("/"));
  }
  return out.sort();
}

// `import … from "x"`, `export … from "x"`, `import("x")`; a type-only import names `type` first
// or imports only `type` specifiers.
const STATIC = /^\s*(import|export)\s+(type\s+)?([^'"]*?)\s*from\s*["']([^"']+)["']/gm;
const DYNAMIC = /import\(\s*["']([^"']+)["']\s*\)/g;

function onlyTypes(clause: string): boolean {
  const braces = /^\{([\s\S]*)\}$/.exec(clause.trim());
  if (!braces) return false;
  const names = braces[1]!.split(",").map((s) => s.trim()).filter(Boolean);
  return names.length > 0 && names.every((n) => n.startsWith("type "));
}

/** Every source file of `srcDir` with its line count, and every relative import between them. */
export function readStructure(srcDir: string): Structure {
  const root = resolve(srcDir);
  const files = new Map<string, number>();
  const edges: ImportEdge[] = [];
  for (const file of listSources(root, root)) {
    const text = readFileSync(join(root, file), "utf8");
    files.set(file, text.split("\n").length - (text.endsWith("\n") ? 1 : 0));
    const lineAt = (index: number) => text.slice(0, index).split("\n").length;
    const add = (spec: string, typeOnly: boolean, index: number) => {
      if (!spec.startsWith(".")) return;
      const target = relative(root, resolve(root, dirname(file), spec)).split(sep).join("/").replace(/\.js$/, ".ts");
      edges.push({ from: file, to: target, typeOnly, line: lineAt(index) });
    };
    for (const m of text.matchAll(STATIC)) add(m[4]!, Boolean(m[2]) || onlyTypes(m[3]!), m.index!);
    for (const m of text.matchAll(DYNAMIC)) add(m[1]!, false, m.index!);
  }
  // a .tsx target written as .js
  for (const e of edges) if (!files.has(e.to) && files.has(e.to.replace(/\.ts$/, ".tsx"))) e.to = e.to.replace(/\.ts$/, ".tsx");
  return { files, edges };
}

/** Everything that breaks the rules, one line each (empty: the structure holds). */
export function checkStructure(s: Structure): string[] {
  const problems: string[] = [];
  for (const [file, lines] of s.files) {
    if (lines > MAX_LINES) problems.push(`${file}: ${lines} lines (at most ${MAX_LINES}); split it`);
    if (layerOf(groupOf(file)) < 0) problems.push(`${file}: its folder "${groupOf(file)}" has no layer; add it to LAYERS in scripts/structure.ts`);
  }
  for (const e of s.edges) {
    if (!s.files.has(e.to)) {
      problems.push(`${e.from}:${e.line}: imports ${e.to}, which is not a source file`);
      continue;
    }
    if (e.typeOnly) continue;
    const [from, to] = [groupOf(e.from), groupOf(e.to)];
    if (from === to) continue;
    const [lf, lt] = [layerOf(from), layerOf(to)];
    if (lf < 0 || lt < 0) continue;
    if (lt > lf) problems.push(`${e.from}:${e.line}: imports ${e.to} against the flow (${from} is below ${to}); move the shared part down or import a type only`);
    else if (lt === lf && !ALLOWED_SIBLING_IMPORTS.has(`${from}->${to}`)) {
      problems.push(`${e.from}:${e.line}: imports ${e.to} across siblings (${from} and ${to} share a layer)`);
    }
  }
  for (const cycle of findCycles(s)) problems.push(`import cycle: ${cycle.join(" -> ")}`);
  return problems;
}

/**
 * Cycles of imports between files, type-only ones included: they vanish at run time, but two
 * files that need each other's declarations are one idea split in two (a contract belongs in a
 * file of its own that both import).
 */
export function findCycles(s: Structure): string[][] {
  const next = new Map<string, string[]>();
  for (const e of s.edges) if (s.files.has(e.to)) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const to of next.get(file) ?? []) {
      if (state.get(to) === "open") cycles.push([...stack.slice(stack.indexOf(to)), to]);
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of s.files.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

/** The layers with their groups and the value imports between groups, as text. */
export function drawStructure(s: Structure): string {
  const between = new Map<string, Set<string>>();
  for (const e of s.edges) {
    const [from, to] = [groupOf(e.from), groupOf(e.to)];
    if (e.typeOnly || from === to) continue;
    between.set(from, (between.get(from) ?? new Set()).add(to));
  }
  const lines = [...LAYERS].reverse().map((groups, i) => {
    const n = LAYERS.length - 1 - i;
    const deps = groups.map((g) => `${g}${between.has(g) ? ` → ${[...between.get(g)!].sort().join(", ")}` : ""}`);
    return `${String(n).padStart(2)}  ${deps.join("   |   ")}`;
  });
  return `${lines.join("\n")}\n`;
}

// As a script: draw src/ and list its problems.
if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const src = resolve(dirname(new URL(import.meta.url).pathname), "..", "src");
  const structure = readStructure(src);
  process.stdout.write(drawStructure(structure));
  const problems = checkStructure(structure);
  process.stdout.write(problems.length ? `\n${problems.join("\n")}\n` : "\nno cycle, no import against the flow, no file over 400 lines\n");
  process.exitCode = problems.length ? 1 : 0;
}
