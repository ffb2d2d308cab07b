import { describe, expect, it } from "vitest";
import { Rng } from "../src/util/rng.js";
import { Registry } from "../src/registry/registry.js";
import { z } from "zod";

describe("Rng", () => {
  it("is deterministic and restorable from its state", () => {
    const a = new Rng(7);
    a.next();
    const saved = a.state;
    const x = [a.next(), a.next()];
    const b = new Rng(0);
    b.state = saved;
    expect([b.next(), b.next()]).toEqual(x);
  });
});

describe("Registry", () => {
  it("refuses a duplicate name instead of overwriting", () => {
    const r = new Registry();
    const decl = { name: "acme/X", doc: "x", params: z.object({}), build: () => 1 };
    r.register("module", decl);
    expect(() => r.register("module", decl)).toThrow(/already registered/);
  });
});
