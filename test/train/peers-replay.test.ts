// The peers' composition modules (TIRG, ARTEMIS, Combiner) and CLIP's towers in a compiled run on
// torch: after the recording steps every training step replays, the evaluation forward replays too
// (a forward or step that cannot be replayed warns and runs eagerly: none here), no kernel falls back to
// the cpu backend, and the replayed run ends with the eager run's weights.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { useBackend } from "../../src/backend/index.js";
import { fallbackCounts, resetFallbackCounts } from "../../src/backend/torch/fallback.js";
import { readSafetensors } from "../../src/io/safetensors.js";
import { loadRecipe } from "../../src/recipe/index.js";
import { RunDir } from "../../src/run/run-dir.js";
import { train } from "../../src/run/train.js";
import type { TrainEvent } from "../../src/train/events.js";
import { missing } from "../support/requires.js";

tf.env().set("PROD", true);

const scratch = mkdtempSync(join(tmpdir(), "sdfn-peers-replay-"));
afterAll(async () => {
  await tf.setBackend("cpu");
  rmSync(scratch, { recursive: true, force: true });
});

const RECIPE = `version: 1
name: peers-replay
seed: 4
data: { dataset: shapes, train_pairs: 40, test_references: 4, test_edits: 4, image_size: 16, prefetch: 1 }
encoders:
  image: { type: clip_vit_b32, dim: 8, patch: 8, width: 16, layers: 1, heads: 2, image_resolution: 16, embed_dim: 8 }
  text: { type: clip_text, dim: 8, bpe: null, vocab_size: 514, context_length: 32, width: 16, layers: 1, heads: 2, embed_dim: 8, lr_mult: 0.5 }
fusion:
  layers: 2
  modules: [{ type: TIRG }, { type: TIRG, apply_to: tokens }, { type: ARTEMIS }, { type: Combiner, projection_mult: 1, hidden_mult: 1, dropout: 0.1 }]
  router: { type: msr, hidden: 4 }
losses:
  - { type: batch_classification, weight: 1.0 }
  - { type: consistency, weight: 0.5 }
  - { type: path_distillation, weight: 1.0 }
training: { epochs: 2, batch_size: 8, optimizer: { type: adam, lr: 0.003 }, eval_every: 1 }
evaluation: { recall_at: [1, 5], batch_size: 8 }
`;

async function run(compile: "eager" | "replay") {
  const file = join(scratch, "recipe.yaml");
  writeFileSync(file, RECIPE);
  const loaded = await loadRecipe(file, { sets: [`training.compile=${compile}`] });
  const events: TrainEvent[] = [];
  const outDir = join(scratch, compile);
  const summary = await train(loaded, { outDir, backend: "torch", onEvent: (e) => events.push(e) });
  return { summary, events, outDir };
}

describe.skipIf(missing("addon"))("TIRG, ARTEMIS, Combiner and CLIP's towers on the torch backend's replay", () => {
  it("replay every step after the recordings and the evaluation forward, with no fallback, and end with the eager run's weights", async () => {
    await useBackend("torch");
    const eager = await run("eager");
    resetFallbackCounts();
    const replay = await run("replay");
    expect(replay.summary.status).toBe("completed");
    expect(replay.events.filter((e) => e.type === "warning")).toEqual([]); // no eager fallback of a step or of the evaluation forward
    expect(fallbackCounts()).toEqual({}); // no kernel ran on the cpu backend
    const counts = replay.events.flatMap((e) => (e.type === "epoch" && e.compiled ? [e.compiled] : []));
    const eagerSteps = counts.reduce((n, c) => n + c.eager, 0);
    expect(counts.reduce((n, c) => n + c.replayed, 0)).toBeGreaterThan(0);
    expect(eagerSteps).toBe(2 * counts.reduce((n, c) => n + c.programs, 0)); // each program's two recordings, nothing else
    const weights = (dir: string) => readSafetensors(new RunDir(dir).checkpoint("last").weights).tensors;
    const [a, b] = [weights(eager.outDir), weights(replay.outDir)];
    let worst = 0;
    for (const [name, t] of Object.entries(a)) {
      const u = b[name]!.data;
      for (let k = 0; k < t.data.length; k++) worst = Math.max(worst, Math.abs(t.data[k]! - u[k]!) / Math.max(1, Math.abs(t.data[k]!)));
    }
    expect(worst).toBeLessThanOrEqual(1e-5);
  }, 300_000);
});
