// The import structure of src/ (scripts/structure.ts): layers in order, no import
// against the flow, none between siblings, no cycle, no file over 400 lines.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkStructure, drawStructure, LAYERS, readStructure, type Structure } from "../scripts/structure.js";

const src = join(import.meta.dirname, "..", "src");

describe("the import structure of src/", () => {
  it("keeps every rule", () => {
    const structure = readStructure(src);
    expect(structure.files.size).toBeGreaterThan(100);
    expect(checkStructure(structure)).toEqual([]);
  });

  it("draws every layer, top first", () => {
    const lines = drawStructure(readStructure(src)).trimEnd().split("\n");
    expect(lines).toHaveLength(LAYERS.length);
    expect(lines.at(-1)).toMatch(/^ 0 {2}util/);
    expect(lines.find((l) => /^\s*\d+ {2}report\b/.test(l))).not.toMatch(/cli/);
  });
});

describe("the checker", () => {
  const structure = (files: Record<string, number>, edges: [string, string, boolean?][]): Structure => ({
    files: new Map(Object.entries(files)),
    edges: edges.map(([from, to, typeOnly], i) => ({ from, to, typeOnly: typeOnly ?? false, line: i + 1 })),
  });

  it("finds an import against the flow, but lets a type-only one pass", () => {
    const s = structure({ "nn/a.ts": 10, "registry/b.ts": 10 }, [["nn/a.ts", "registry/b.ts"]]);
    expect(checkStructure(s)).toEqual(["nn/a.ts:1: imports registry/b.ts against the flow (nn is below registry); move the shared part down or import a type only"]);
    expect(checkStructure(structure({ "nn/a.ts": 10, "registry/b.ts": 10 }, [["nn/a.ts", "registry/b.ts", true]]))).toEqual([]);
  });

  it("finds imports between siblings, cycles, long files and folders without a layer", () => {
    const s = structure({ "train/a.ts": 10, "eval/b.ts": 401, "graph/c.ts": 5, "graph/d.ts": 5, "misc/e.ts": 1 }, [
      ["train/a.ts", "eval/b.ts"],
      ["graph/c.ts", "graph/d.ts"],
      ["graph/d.ts", "graph/c.ts"],
    ]);
    expect(checkStructure(s)).toEqual([
      "eval/b.ts: 401 lines (at most 400); split it",
      'misc/e.ts: its folder "misc" has no layer; add it to LAYERS in scripts/structure.ts',
      "train/a.ts:1: imports eval/b.ts across siblings (train and eval share a layer)",
      "import cycle: graph/c.ts -> graph/d.ts -> graph/c.ts",
    ]);
  });

  it("finds a cycle of type-only imports (two files that need each other's declarations)", () => {
    const s = structure({ "train/step.ts": 10, "train/teacher.ts": 10 }, [
      ["train/step.ts", "train/teacher.ts", true],
      ["train/teacher.ts", "train/step.ts", true],
    ]);
    expect(checkStructure(s)).toEqual(["import cycle: train/step.ts -> train/teacher.ts -> train/step.ts"]);
  });

  it("reads type-only imports as such from the source text", () => {
    const s = readStructure(src);
    const edge = s.edges.find((e) => e.from === "data/types.ts" && e.to === "registry/kinds-data.ts");
    expect(edge?.typeOnly).toBe(true);
    const value = s.edges.find((e) => e.from === "graph/compile.ts" && e.to === "nn/scope.ts");
    expect(value?.typeOnly).toBe(false);
  });
});
