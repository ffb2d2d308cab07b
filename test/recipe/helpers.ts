// Test helpers: a small registry with one or two declarations per kind, and recipe files in a temp dir.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { z } from "zod";
import { Registry, type Kind } from "../../src/registry/registry.js";

const decl = (name: string, params: z.ZodObject = z.object({})) => ({
  name,
  doc: `${name} for tests`,
  params,
  build: () => ({}),
});

/** module Alpha/Beta, router msr/static, encoders img/txt, loss ce, dataset toy, optimizer adam, schedule step. */
export function tinyRegistry(): Registry {
  const r = new Registry();
  const add = (kind: Kind, d: ReturnType<typeof decl>) => r.register(kind, d);
  add("module", decl("Alpha", z.object({ heads: z.number().int().min(1).default(2).describe("heads") })));
  add("module", decl("Beta", z.object({ scale: z.number().default(1).describe("scale") })));
  add("router", decl("msr", z.object({ hidden: z.number().int().min(0).default(4).describe("hidden") })));
  add("router", decl("static"));
  add("image_encoder", decl("img", z.object({ dim: z.number().int().positive().default(8).describe("d") })));
  add("text_encoder", decl("txt", z.object({ hidden: z.number().int().positive().default(8).describe("h") })));
  add("loss", decl("ce", z.object({ weight: z.number().min(0).default(1).describe("λ") })));
  add("dataset", decl("toy", z.object({ root: z.string().default("data/toy").describe("root"), size: z.number().int().default(4).describe("n") })));
  add("optimizer", decl("adam", z.object({ lr: z.number().positive().default(0.001).describe("lr") })));
  add("schedule", decl("step", z.object({ milestones: z.array(z.number().int()).default([]).describe("m"), gamma: z.number().default(0.1).describe("g") })));
  return r;
}

/** A minimal valid recipe for tinyRegistry. */
export const TINY = `version: 1
name: tiny
data: { dataset: toy }
encoders:
  image: { type: img, dim: 8 }
  text: { type: txt }
fusion:
  layers: 2
  modules:
    - { type: Alpha, heads: 4 }
    - { type: Beta }
losses:
  - { type: ce, weight: 0.5 }
`;

/** Writes `files` (name → text) into a fresh temp dir; returns its path. */
export function writeTree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "sdfn-recipe-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
