// Parameters every dataset shares (images, text, loading, feature cache), written
// once and spread into each dataset's zod object so a recipe's `data:` stays flat.
import { z } from "zod";

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

const rgb = z.array(z.number()).length(3);
/** Pixels are divided by it: 0 would make every value infinite. */
export const rgbStd = z.array(z.number().positive()).length(3);
/** Beyond this an image batch does not fit in memory anyway (the paper uses 224). */
export const MAX_IMAGE_SIZE = 4096;

/** Image decoding and augmentation. */
export const imageParams = {
  image_size: z.number().int().positive().max(MAX_IMAGE_SIZE).default(224).describe("Side of the square image fed to the encoder, in pixels."),
  resize: z
    .number()
    .int()
    .nonnegative()
    .max(2 * MAX_IMAGE_SIZE)
    .default(0)
    .describe("Shorter side after resizing, before cropping; 0 = image_size × 256/224 (256 for 224)."),
  random_crop: z.boolean().default(true).describe("Training: random image_size crop of the resized image (evaluation: center crop)."),
  flip: z.boolean().default(true).describe("Training: horizontal flip with probability 1/2."),
  pad_square: z.boolean().default(false).describe("Pad each image with white to a square before resizing (keeps the whole garment)."),
  mean: rgb.default(IMAGENET_MEAN).describe("Per-channel mean subtracted from pixels in [0, 1] (ImageNet)."),
  std: rgbStd.default(IMAGENET_STD).describe("Per-channel standard deviation pixels are divided by (ImageNet)."),
};

/** Tokenisation and vocabulary. */
export const textParams = {
  min_count: z.number().int().positive().default(1).describe("Vocabulary: keep training words seen at least this often; others become <unk>."),
  max_words: z.number().int().positive().default(32).describe("Truncate each text to this many tokens."),
};

/** Batching and decoding ahead of compute. */
export const loaderParams = {
  prefetch: z.number().int().nonnegative().default(3).describe("Training batches decoded ahead of the one being computed."),
  decode_concurrency: z.number().int().positive().default(32).describe("Images decoding at the same time: queued to libuv threads, so decoding continues while a step blocks the JS thread."),
  feature_cache: z
    .string()
    .default("")
    .describe("Directory caching frozen-backbone features per image (relative to the working directory); empty = no cache."),
  check_images: z
    .enum(["first_use", "full"])
    .default("first_use")
    .describe("first_use: a corrupt, truncated or empty image stops training when it is first decoded, naming it; full: before training, decode every image of the dataset once (with progress) and report every bad one by file name."),
};

/**
 * How a FashionIQ pair's two captions become texts (docs/datasets.md "Query forms"): the peers
 * pose them differently, and a recall is comparable only to a table that used the same form.
 */
export const QUERY_FORMS = ["per_caption", "both_orders", "joined"] as const;
export type QueryForm = (typeof QUERY_FORMS)[number];

/** Query forms for datasets with two captions per pair (FashionIQ). */
export const captionParams = {
  query_form: z
    .enum(QUERY_FORMS)
    .default("per_caption")
    .describe(
      'Evaluation queries (and training texts, unless train_form says otherwise): per_caption = one per caption, as VAL poses them (the paper\'s protocol); both_orders = "c1 and c2" and "c2 and c1", as CoSMo and ARTEMIS; joined = one "c1 and c2" per pair, as CLIP4Cir.',
    ),
  train_form: z
    .enum(["same", ...QUERY_FORMS])
    .default("same")
    .describe("Training texts: same = as query_form, or another form (e.g. both_orders to train on both orders while evaluating joined)."),
  caption_join: z.string().default("and").describe('Word joining a pair\'s two captions in both_orders and joined: "c1 and c2".'),
};

/** What to do with images the annotation files name but the disk lacks (src/data/missing-images.ts). */
export const missingImagesParams = {
  missing_images: z
    .enum(["error", "skip"])
    .default("error")
    .describe(
      "error: a missing image stops the run before anything is written; skip: drop the training pairs and evaluation queries whose images are missing (and missing gallery images), count them per split and category, and mark the evaluation not comparable to published numbers (docs/datasets.md).",
    ),
};

export type ImageOptions = { [K in keyof typeof imageParams]: z.output<(typeof imageParams)[K]> };
export type TextOptions = { [K in keyof typeof textParams]: z.output<(typeof textParams)[K]> };
export type LoaderOptions = { [K in keyof typeof loaderParams]: z.output<(typeof loaderParams)[K]> };

/** The resize target of the shorter side. */
export const resizeOf = (o: Pick<ImageOptions, "image_size" | "resize">): number =>
  o.resize > 0 ? Math.max(o.resize, o.image_size) : Math.round((o.image_size * 256) / 224);
