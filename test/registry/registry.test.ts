// The registry (src/registry/registry.ts): one build call that looks up, parses and builds; names
// never overwritten; sources remembered; and, over every kind, the built-ins it starts with.
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { createRegistry } from "../../src/builtins.js";
import { defineSchedule } from "../../src/registry/define.js";
import { KINDS, Registry, RegistryError } from "../../src/registry/registry.js";

// A schedule that builds its own params back, to see what `build` hands over.
const echo = defineSchedule({
  name: "test/echo",
  doc: "returns lr × factor",
  params: z.object({ factor: z.number().default(2).describe("multiplier") }),
  build: (p) => ((step: number) => p.factor * step) as never,
});

describe("Registry", () => {
  it("builds an entry: looks it up by name, fills the schema's defaults, passes the context", () => {
    const registry = new Registry();
    registry.register("schedule", echo, "this test");
    const built = registry.build("schedule", { type: "test/echo" }, {} as never, "training.schedule") as unknown as (s: number) => number;
    expect(built(3)).toBe(6);
    expect(registry.resolve("schedule", { type: "test/echo", factor: 5 }, "training.schedule").params).toEqual({ factor: 5 });
  });

  it("says where an unknown name or a bad parameter is, and what is registered", () => {
    const registry = new Registry();
    registry.register("schedule", echo);
    expect(() => registry.build("schedule", { type: "nope" }, {} as never, "training.schedule")).toThrow(
      new RegistryError('training.schedule: unknown schedule "nope"; registered: test/echo'),
    );
    expect(() => registry.resolve("schedule", { type: "test/echo", factor: "x" }, "training.schedule")).toThrow(/^training\.schedule \(test\/echo\): invalid parameters: training\.schedule\.factor: /);
  });

  it("never overwrites a name, and says who holds it", () => {
    const registry = new Registry();
    registry.register("schedule", echo, "plugin a.ts");
    expect(() => registry.register("schedule", echo, "plugin b.ts")).toThrow('schedule "test/echo" is already registered by plugin a.ts; pick another name (from plugin b.ts)');
  });

  it("copies with sources; registering into the copy leaves the original alone", () => {
    const original = createRegistry();
    const copy = original.copy();
    copy.register("schedule", echo, "plugin x.ts");
    expect(copy.sourceOf("schedule", "test/echo")).toBe("plugin x.ts");
    expect(original.get("schedule", "test/echo")).toBeUndefined();
    for (const kind of KINDS) expect(copy.names(kind).filter((n) => n !== "test/echo")).toEqual(original.names(kind));
  });
});

describe.each(KINDS.map((k) => [k] as const))("built-in %s declarations", (kind) => {
  const registry = createRegistry();
  it("exist, are registered as built-in, are documented, and describe every parameter", () => {
    const declarations = registry.list(kind);
    expect(declarations.length).toBeGreaterThan(0);
    for (const d of declarations) {
      expect(registry.sourceOf(kind, d.name)).toBe("built-in");
      expect(d.doc.length, `${kind} ${d.name} has no doc`).toBeGreaterThan(0);
      const shape = (d.params as z.ZodObject).shape as Record<string, z.ZodType>;
      const undescribed = Object.entries(shape).filter(([, s]) => !s.description).map(([k]) => k);
      expect(undescribed, `${kind} ${d.name}`).toEqual([]);
    }
  });
});
