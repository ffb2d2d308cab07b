// The bench's recipe and flags (bench/run.ts): the recipe it writes must stay a valid sdfn
// recipe as the schema evolves, and the flags must reach it. (Speed itself is not tested.)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { benchRecipe, knownLimit, parseOptions } from "../../bench/run.js";
import { loadRecipe } from "../../src/recipe/index.js";

const work = mkdtempSync(join(tmpdir(), "sdfn-bench-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function load(argv: string[]) {
  const file = join(work, `${argv.join("_").replace(/\W/g, "") || "defaults"}.yaml`);
  writeFileSync(file, benchRecipe(parseOptions(argv)));
  return (await loadRecipe(file)).recipe;
}

describe("npm run bench", () => {
  it("writes a valid recipe of the paper's architecture at the small default size", async () => {
    const r = await load([]);
    expect(r.encoders.image).toMatchObject({ type: "small_cnn", dim: 32 });
    expect(r.encoders.text).toMatchObject({ type: "lstm", hidden: 32 });
    expect(r.fusion.layers).toBe(3);
    expect(r.fusion.modules.map((m) => m.type)).toEqual(["JRM", "CAM", "GTM", "RCM"]);
    expect(r.fusion.router.type).toBe("msr");
    expect(r.losses.map((l) => l.type)).toEqual(["batch_classification", "consistency", "path_distillation"]);
  });

  it("takes sizes from flags, and --paper is ResNet-50, 224 px, batch 32, d 1024", async () => {
    const r = await load(["--encoder", "resnet18", "--dim", "24", "--layers", "2", "--router", "shared", "--text", "gru"]);
    expect(r.encoders.image).toMatchObject({ type: "resnet18", dim: 24 });
    expect(r.encoders.text.type).toBe("gru");
    expect(r.fusion.layers).toBe(2);
    expect(r.fusion.router.type).toBe("shared");
    const paper = parseOptions(["--paper"]);
    expect(paper).toMatchObject({ encoder: "resnet50", imageSize: 224, batch: 32, dim: 1024, layers: 3 });
    const p = await load(["--paper"]);
    expect(p.encoders.image).toMatchObject({ type: "resnet50", dim: 1024 });
    expect(p.training.batch_size).toBe(32);
  });

  it("counts wasm's missing convolution gradient as a known limit (exit 0), any other error as a failure", () => {
    const wasm = { name: "sdfn/wasm", error: "training step: Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'" };
    expect(knownLimit(wasm as Parameters<typeof knownLimit>[0])).toBe(true);
    expect(knownLimit({ ...wasm, name: "sdfn/torch" } as Parameters<typeof knownLimit>[0])).toBe(false);
    expect(knownLimit({ name: "sdfn/wasm", error: "out of memory" } as Parameters<typeof knownLimit>[0])).toBe(false);
  });

  it("rejects a size that is not a positive integer, naming the flag", () => {
    expect(() => parseOptions(["--batch", "0"])).toThrow("--batch 0: expected a positive integer");
    expect(() => parseOptions(["--dim", "1.5"])).toThrow("--dim 1.5");
  });
});
