// shapes: a generated compositional dataset (coloured shapes on a grid) for the quickstart and tests.
import { z } from "zod";
import { Rng } from "../../util/rng.js";
import { defineDataset } from "../../registry/define.js";
import { cropNormalise } from "../images.js";
import { loaderParams, MAX_IMAGE_SIZE, rgbStd, textParams } from "../params.js";
import type { EvalSet } from "../types.js";
import { shapesBaselines } from "../shapes/baselines.js";
import { generateShapes } from "../shapes/generate.js";
import { renderScene } from "../shapes/render.js";

/** Generation holds every training scene in memory (~9 KB a pair with its target and text). */
const MAX_TRAIN_PAIRS = 200_000;

export const shapes = defineDataset({
  name: "shapes",
  doc: 'Generated scenes of coloured shapes with edits ("make the red circle blue"); neither image nor text alone finds the target.',
  params: z.object({
    seed: z.number().int().nonnegative().default(0).describe("Generator seed, added to the recipe seed."),
    train_pairs: z
      .number()
      .int()
      .positive()
      .max(MAX_TRAIN_PAIRS)
      .default(2000)
      .describe(`Training pairs (random scene, random edit); at most ${MAX_TRAIN_PAIRS} (every scene is held in memory: 100000 take ~0.9 GB and 30 s to generate).`),
    test_groups: z
      .number()
      .int()
      .positive()
      .max(64)
      .default(1)
      .describe("Evaluation groups; each is test_references scenes × test_edits edits, all in one gallery."),
    test_references: z
      .number()
      .int()
      .min(2)
      .max(1024)
      .default(32)
      .describe("Reference scenes per group; they share the edited objects, so each text fits this many targets."),
    test_edits: z
      .number()
      .int()
      .min(2)
      .max(1024)
      .default(32)
      .describe("Edits per group applied to every reference, so each reference has this many one-edit neighbours."),
    test_queries: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe("Evaluation queries kept (seeded sample); 0 = every reference × edit."),
    image_size: z.number().int().min(8).max(MAX_IMAGE_SIZE).default(32).describe("Side of the rendered square image, in pixels."),
    grid: z.number().int().min(2).max(4).default(3).describe("Cells per side; each holds at most one shape."),
    colors: z.number().int().min(2).max(6).default(4).describe("Colours used (red, green, blue, yellow, purple, orange)."),
    shapes: z.number().int().min(2).max(4).default(3).describe("Shape kinds used (circle, square, triangle, cross)."),
    edit_mix: z
      .enum(["local", "global"])
      .default("local")
      .describe(
        "local: single-object edits (recolor, resize, remove, move, add); global: also scene-wide ones, \"make every shape red\" (the same change at every region) and \"mirror the scene left to right\" (every object moves: attention across regions).",
      ),
    mean: z.array(z.number()).length(3).default([0.485, 0.456, 0.406]).describe("Per-channel mean subtracted from pixels in [0, 1]."),
    std: rgbStd.default([0.229, 0.224, 0.225]).describe("Per-channel standard deviation."),
    ...textParams,
    ...loaderParams,
  }),
  // Each reference × edit adds at most one target (equal scenes share one): an upper bound.
  galleryBound: (p) => p.test_groups * p.test_references * p.test_edits,
  build: async (p, ctx) => {
    const { scenes, train, evalSet } = generateShapes(new Rng(ctx.seed + p.seed), p);
    const pixels = (id: string) => {
      const scene = scenes.get(id);
      if (!scene) throw new Error(`shapes: no image "${id}"`);
      return renderScene(scene, p.image_size, p.grid);
    };
    const images = {
      path: () => undefined,
      // No augmentation: a flip or crop would change what "left" or "top" means.
      load: async (id: string) =>
        cropNormalise({ data: pixels(id), height: p.image_size, width: p.image_size }, p.image_size, 0, 0, false, p),
    };
    const scene = (id: string) => scenes.get(id)!;
    const baselines = (set: EvalSet, ks: readonly number[]) => shapesBaselines(set, p, scene, pixels, ks);
    return { train, evalSets: [evalSet], images, missing: [], scenes, pixels, baselines };
  },
});
