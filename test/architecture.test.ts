// docs/architecture.md "Where to add": each recipe is followed here with the fixtures in
// test/fixtures/where-to-add/ — a module, a router, a loss and a dataset registered and
// trained together through the ordinary path, and a command run through main's handler.
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createRegistry } from "../src/builtins.js";
import { runCommand } from "../src/cli/main.js";
import { loadRecipe } from "../src/recipe/index.js";
import { readSafetensors } from "../src/io/safetensors.js";
import { RunDir } from "../src/run/run-dir.js";
import { train } from "../src/run/train.js";
import type { TrainEvent } from "../src/train/events.js";
import { command as greet } from "./fixtures/where-to-add/command.js";
import { tinyShapes } from "./fixtures/where-to-add/dataset.js";
import { center } from "./fixtures/where-to-add/loss.js";
import { shift } from "./fixtures/where-to-add/module.js";
import { learned } from "./fixtures/where-to-add/router.js";

tf.env().set("IS_TEST", true);
const scratch = mkdtempSync(join(tmpdir(), "sdfn-where-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const RECIPE = `version: 1
name: where-to-add
seed: 1
backend: cpu
data: { dataset: test/TinyShapes, pairs: 8, prefetch: 1 }
encoders:
  image: { type: small_cnn, dim: 8, channels: [4, 8] }
  text: { type: lstm, hidden: 8, embedding_dim: 8 }
fusion:
  layers: 2
  modules: [{ type: test/Shift, by: 2 }, { type: GTM }]
  router: { type: test/Learned }
losses: [{ type: batch_classification }, { type: test/Center, weight: 0.5 }]
training: { epochs: 1, batch_size: 4, optimizer: { type: adam, lr: 0.01 }, schedule: { type: step } }
evaluation: { recall_at: [1, 5], batch_size: 8 }
`;

describe("where to add a module, a router, a loss and a dataset", () => {
  it("registers each, and a recipe naming them validates, trains and evaluates", async () => {
    const registry = createRegistry();
    registry.register("module", shift, "test fixture");
    registry.register("router", learned, "test fixture");
    registry.register("loss", center, "test fixture");
    registry.register("dataset", tinyShapes, "test fixture");
    expect(registry.sourceOf("module", "test/Shift")).toBe("test fixture");
    const file = join(scratch, "where.yaml");
    writeFileSync(file, RECIPE);
    const loaded = await loadRecipe(file, { registry });
    expect(loaded.recipe.fusion.modules[0]).toEqual({ type: "test/Shift", by: 2 }); // the schema's params and defaults
    const events: TrainEvent[] = [];
    const outDir = join(scratch, "run");
    const summary = await train(loaded, { outDir, onEvent: (e) => events.push(e) });
    expect(summary.status).toBe("completed");
    expect(summary.steps).toBe(2); // 8 pairs in batches of 4
    expect(Object.keys(summary.metrics)).toContain("shapes/R@5"); // evaluated on the dataset's set (named by the generator)
    const steps = events.filter((e): e is Extract<TrainEvent, { type: "step" }> => e.type === "step");
    // the loss is computed and weighted: 0.5 × the mean squared distance, > 0 for random embeddings
    expect(steps.every((s) => s.losses["test/Center"]! > 0)).toBe(true);
    // the router starts uniform (zero logits): the last layer gives each of the M = 2 modules w = 1/2
    expect(steps[0]!.routing.at(-1)).toEqual([0.5, 0.5]);
    // every parameter, the module's offset and the router's logits included, got a gradient
    expect(events.filter((e) => e.type === "warning" && /no gradient/.test(e.message))).toEqual([]);
    const weights = readSafetensors(new RunDir(outDir).checkpoint("last").weights).tensors;
    for (const name of ["fusion.layers.0.modules.0.offset", "fusion.layers.1.router.logits"]) {
      expect(weights[name], name).toBeDefined();
      expect(Array.from(weights[name]!.data).some((v) => v !== 0), `${name} trained`).toBe(true);
    }
  });
});

describe("where to add a command", () => {
  const capture = async (argv: string[]) => {
    let out = "";
    let err = "";
    const o = vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
    const e = vi.spyOn(process.stderr, "write").mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
    try {
      return { code: await runCommand(greet, argv), out, err };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  };

  it("gets its --help from its spec, parses its options and reports user errors with exit 2", async () => {
    const help = await capture(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toBe(
      "Usage: sdfn greet NAME [--times N]\n\nPrints a greeting for NAME.\n\nOptions:\n" +
        "  --times N   how many times (default 1)\n  --shout     in capitals\n\nExample:\n  sdfn greet world --times 2\n",
    );
    expect(await capture(["world", "--times", "2", "--shout"])).toEqual({ code: 0, out: "HELLO WORLD\nHELLO WORLD\n", err: "" });
    const unknown = await capture(["world", "--loud"]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^error: greet: Unknown option '--loud'.*\(see sdfn greet --help\)\n$/);
    expect(await capture(["world", "--times", "0"])).toEqual({ code: 2, out: "", err: "error: --times 0: expected a positive integer\n" });
  });
});
