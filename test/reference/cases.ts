// Shared by the parity tests: the recipes exchanged with the PyTorch reference and the
// calls to the python with torch (bench/reference/check.py, selftest.py).
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { exportParity, type BatchShape, type ExchangeFiles } from "../../bench/reference/exchange.js";
import { loadRecipe } from "../../src/recipe/index.js";
import { PYTHON } from "../support/requires.js";

export const ROOT = resolve(import.meta.dirname, "../..");
const CHECK = join(ROOT, "bench/reference/check.py");

/** Runs Debian's python (the one with python3-torch) on `args`. */
export function python(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(PYTHON, args, {
    encoding: "utf8",
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", OMP_NUM_THREADS: "1" },
  });
  if (r.error) throw new Error(`${PYTHON} did not start (${r.error.message}); install python3-torch python3-numpy`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export const check = (files: ExchangeFiles, weights = files.weights) =>
  python([CHECK, "--weights", weights, "--batch", files.batch, "--recipe", files.recipe]);

export interface ParityCase {
  name: string;
  yaml: string;
  shape: Omit<BatchShape, "vocabSize">;
  /** Run sdfn and the reference in training mode (batch statistics; the recipe has no dropout). */
  training?: boolean;
}

/** Writes the case's recipe under `dir`, exports sdfn's side there (current tfjs backend). */
export async function exportCase(c: ParityCase, dir: string): Promise<ExchangeFiles> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "recipe.yaml"), c.yaml);
  return exportParity(await loadRecipe(join(dir, "recipe.yaml")), dir, c.shape, { training: c.training });
}

const header = (image: string, text: string, fusion: string, losses: string, data = "{ dataset: shapes }") =>
  [
    "version: 1",
    "name: parity",
    "seed: 3",
    `data: ${data}`,
    "encoders:",
    `  image: ${image}`,
    `  text: ${text}`,
    `fusion: ${fusion}`,
    `losses: ${losses}`,
    "training: { epochs: 1, batch_size: 3 }",
    "",
  ].join("\n");

const ALL_LOSSES =
  "[{ type: batch_classification, weight: 1 }, { type: consistency, weight: 0.5 }, { type: path_distillation, weight: 2, temperature: 2 }]";

export const CASES: ParityCase[] = [
  {
    name: "the paper's architecture at tiny size (resnet18, 32 px, d 16, lstm, 3 layers × JRM/CAM/GTM/RCM, msr mean, attention-pooled image router)",
    yaml: header(
      "{ type: resnet18, dim: 16 }",
      "{ type: lstm, hidden: 16, embedding_dim: 8 }",
      "{ layers: 3, modules: [{ type: JRM, heads: 2 }, { type: CAM, heads: 4 }, { type: GTM }, { type: RCM }], router: { type: msr, combine: mean, hidden: 8 } }",
      ALL_LOSSES,
    ),
    shape: { batch: 3, imageSize: 32, channels: 3, textLength: 5, seed: 11 },
  },
  {
    name: "2 layers × CAM/GTM/CAM with the shared router, attention-pooled as msr (small_cnn, bilstm, l2 consistency)",
    yaml: header(
      "{ type: small_cnn, dim: 16, channels: [8, 16] }",
      "{ type: bilstm, hidden: 12, embedding_dim: 8 }",
      "{ layers: 2, modules: [{ type: CAM, heads: 2 }, { type: GTM }, { type: CAM, heads: 1 }], router: { type: shared, hidden: 8 } }",
      "[{ type: batch_classification, weight: 1 }, { type: consistency, weight: 1, distance: l2 }, { type: path_distillation, weight: 1 }]",
    ),
    shape: { batch: 3, imageSize: 24, channels: 3, textLength: 6, seed: 12 },
  },
  {
    name: "precomputed features, gru, msr product with linear routers on mean-pooled tokens (pool: mean)",
    yaml: header(
      "{ type: features, dim: 8, channels: 12 }",
      "{ type: gru, hidden: 8, embedding_dim: 6 }",
      "{ layers: 2, modules: [{ type: JRM, heads: 2 }, { type: RCM }, { type: GTM }], router: { type: msr, combine: product, hidden: 0, pool: mean } }",
      ALL_LOSSES,
    ),
    shape: { batch: 4, imageSize: 3, channels: 12, textLength: 4, seed: 13 },
  },
  {
    name: "msr with a learned gate and a text router reading the words too, 4 layers × GTM/CAM/RCM (features, lstm)",
    yaml: header(
      "{ type: features, dim: 8, channels: 6 }",
      "{ type: lstm, hidden: 8, embedding_dim: 6 }",
      "{ layers: 4, modules: [{ type: GTM }, { type: CAM, heads: 2 }, { type: RCM }], router: { type: msr, combine: gate, hidden: 4, words: true } }",
      ALL_LOSSES,
    ),
    shape: { batch: 3, imageSize: 2, channels: 6, textLength: 5, seed: 14 },
  },
  {
    name: "the static router, one layer of JRM/GTM (features, bilstm, no distillation)",
    yaml: header(
      "{ type: features, dim: 8, channels: 5 }",
      "{ type: bilstm, hidden: 4, embedding_dim: 6 }",
      "{ layers: 1, modules: [{ type: JRM, heads: 2 }, { type: GTM }], router: { type: static } }",
      "[{ type: batch_classification, weight: 1 }, { type: consistency, weight: 1 }]",
    ),
    shape: { batch: 3, imageSize: 3, channels: 5, textLength: 4, seed: 15 },
  },
  // The peers' composition methods (src/modules/{tirg,artemis,combiner}.ts), each as its recipe
  // runs it (one layer, the static router, the classification loss), then together under msr.
  ...(
    [
      ["TIRG on the pooled feature (recipes/peers/tirg-*)", "{ type: TIRG }"],
      ["TIRG on every region token (apply_to: tokens)", "{ type: TIRG, apply_to: tokens, hidden_mult: 1.5 }"],
      ["ARTEMIS as one query vector (recipes/peers/artemis-*)", "{ type: ARTEMIS }"],
      ["CLIP4Cir's Combiner (recipes/peers/clip4cir-*)", "{ type: Combiner, projection_mult: 2, hidden_mult: 3 }"],
    ] as const
  ).map(([name, module], i) => ({
    name: `${name}: one layer, static router (features, lstm)`,
    yaml: header(
      `{ type: features, dim: 8, channels: ${5 + i} }`,
      "{ type: lstm, hidden: 8, embedding_dim: 6 }",
      `{ layers: 1, modules: [${module}], router: { type: static } }`,
      "[{ type: batch_classification, weight: 1 }]",
    ),
    shape: { batch: 4, imageSize: 3, channels: 5 + i, textLength: 5, seed: 21 + i },
  })),
  {
    name: "TIRG, ARTEMIS, Combiner and CAM routed over 2 layers by msr (features, gru, all losses)",
    yaml: header(
      "{ type: features, dim: 8, channels: 6 }",
      "{ type: gru, hidden: 8, embedding_dim: 6 }",
      "{ layers: 2, modules: [{ type: TIRG }, { type: ARTEMIS }, { type: Combiner, projection_mult: 1, hidden_mult: 2 }, { type: CAM, heads: 2 }], router: { type: msr, hidden: 4 } }",
      ALL_LOSSES,
    ),
    shape: { batch: 3, imageSize: 2, channels: 6, textLength: 4, seed: 25 },
  },
  {
    name: "SDFN on CLIP features: a CLIP-shaped ViT (width 32, 2 layers, patch 8 at 32 px) and text transformer, 2 layers × JRM/CAM/GTM/RCM/Combiner, msr",
    yaml: header(
      "{ type: clip_vit_b32, dim: 16, patch: 8, width: 32, layers: 2, heads: 4, image_resolution: 32, embed_dim: 24 }",
      "{ type: clip_text, dim: 16, bpe: null, vocab_size: 64, context_length: 8, width: 16, layers: 2, heads: 2, embed_dim: 24 }",
      "{ layers: 2, modules: [{ type: JRM, heads: 2 }, { type: CAM, heads: 4 }, { type: GTM }, { type: RCM }, { type: Combiner, projection_mult: 1, hidden_mult: 2 }], router: { type: msr, hidden: 8 } }",
      ALL_LOSSES,
      "{ dataset: shapes, image_size: 32 }",
    ),
    shape: { batch: 3, imageSize: 32, channels: 3, textLength: 6, seed: 26 },
  },
  {
    name: "CLIP's modified ResNet (one bottleneck a stage, width 8, attention pooling, 64 px) with TIRG on every token and the Combiner, msr",
    yaml: header(
      "{ type: clip_rn50, dim: 16, layers: [1, 1, 1, 1], width: 8, heads: 4, image_resolution: 64, embed_dim: 24 }",
      "{ type: clip_text, dim: 16, bpe: null, vocab_size: 64, context_length: 8, width: 16, layers: 1, heads: 2, embed_dim: 24 }",
      "{ layers: 2, modules: [{ type: TIRG, apply_to: tokens }, { type: Combiner, projection_mult: 1, hidden_mult: 1 }, { type: CAM, heads: 2 }], router: { type: msr, hidden: 4 } }",
      ALL_LOSSES,
      "{ dataset: shapes, image_size: 64 }",
    ),
    shape: { batch: 3, imageSize: 64, channels: 3, textLength: 5, seed: 27 },
  },
  {
    name: "training mode: batch norm from the batch, running statistics updated (small_cnn, dropout 0, msr mean)",
    yaml: header(
      "{ type: small_cnn, dim: 16, channels: [8, 16] }",
      "{ type: lstm, hidden: 16, embedding_dim: 8 }",
      "{ layers: 2, modules: [{ type: JRM, heads: 2, dropout: 0 }, { type: CAM, heads: 2, dropout: 0 }, { type: GTM }], router: { type: msr, hidden: 8 } }",
      ALL_LOSSES,
    ),
    shape: { batch: 4, imageSize: 16, channels: 3, textLength: 5, seed: 16 },
    training: true,
  },
];

