// `sdfn query RUN_DIR --image PATH --text "…"`: ranks the run's evaluation
// gallery for one composed query and prints the top K image ids with scores.
import { existsSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { BACKEND_OPTION, defineCommand, UsageError } from "../command.js";
import { openRunForCommand, RUN_OPTIONS } from "./open-run.js";

export const command = defineCommand({
  name: "query",
  summary: "retrieve gallery images for a reference image and a text",
  usage: 'RUN_DIR --image PATH --text "TEXT" [options]',
  description: "Retrieves the evaluation gallery images that best match a reference image modified by TEXT.",
  options: {
    image: { type: "string", arg: "PATH", help: "the reference image file, or a gallery image id (generated datasets such as shapes)" },
    text: { type: "string", arg: "TEXT", help: "the modification text" },
    top: { type: "string", short: "k", arg: "K", help: "how many results (default 10)" },
    set: { type: "string", arg: "NAME", help: "rank this evaluation set's gallery (default: all galleries together)" },
    checkpoint: RUN_OPTIONS.checkpoint,
    backend: { ...BACKEND_OPTION, help: "tfjs backend (default: the recipe's)" },
    recipe: { ...RUN_OPTIONS.recipe, help: "load this recipe instead of RUN_DIR/recipe.resolved.yaml (runs with plugins)" },
  },
  examples: ['sdfn query runs/quickstart-20260101-120000 --image s12 --text "make the red circle blue" -k 5'],
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError(`query: expected one RUN_DIR, got ${positionals.length} (see sdfn query --help)`);
    if (!values.image || values.text === undefined) throw new UsageError("query: --image and --text are required (see sdfn query --help)");
    const k = Number(values.top ?? 10);
    if (!Number.isInteger(k) || k < 1) throw new UsageError(`-k ${values.top}: expected a positive integer`);
    const { embedGallery } = await import("../../eval/embed.js");
    const { inference } = await import("../../nn/context.js");
    const { topK } = await import("../../eval/retrieval.js");
    const run = await openRunForCommand(positionals[0]!, values);
    const { loaded, dataset, net } = run;
    try {
      const sets = values.set ? dataset.evalSets.filter((s) => s.name === values.set) : dataset.evalSets;
      if (sets.length === 0) {
        throw new UsageError(`--set ${values.set}: no such evaluation set; the run has ${dataset.evalSets.map((s) => s.name).join(", ")}`);
      }
      const gallery = [...new Set(sets.flatMap((s) => s.gallery))];
      const reference = await referenceImage(values.image, gallery, dataset.loader, loaded.recipe.data as Record<string, unknown>);
      const { tokens, mask } = dataset.loader.texts([values.text]);
      const query = tf.tidy(() => net.encodeQuery({ reference, tokens, mask }, inference).query);
      tf.dispose([reference, tokens, mask]);
      const embeddings = await embedGallery(net, dataset.loader, gallery, loaded.recipe.evaluation.batch_size);
      const self = gallery.indexOf(values.image);
      const [top] = await topK(query, embeddings, [{ exclude: self >= 0 ? [self] : [] }], k);
      tf.dispose([query, embeddings]);
      process.stdout.write(`top ${k} of ${gallery.length} gallery images for "${values.text}" (reference ${values.image}):\n`);
      top!.forEach(({ index, score }, i) => process.stdout.write(`${String(i + 1).padStart(3)}  ${score.toFixed(4)}  ${gallery[index]}\n`));
      return 0;
    } finally {
      run.dispose();
    }
  },
});

/** A file path is decoded like an evaluation image; otherwise it must be a gallery image id. */
async function referenceImage(
  image: string,
  gallery: readonly string[],
  loader: { images(ids: readonly string[], opts?: { train?: boolean }): Promise<tf.Tensor4D> },
  data: Record<string, unknown>,
): Promise<tf.Tensor4D> {
  if (existsSync(image)) {
    const { decodeImage } = await import("../../data/images.js");
    const { imageParams } = await import("../../data/params.js");
    const { z } = await import("zod");
    const options = z.object(imageParams).parse(Object.fromEntries(Object.keys(imageParams).filter((k) => k in data).map((k) => [k, data[k]])));
    const px = await decodeImage(image, { ...options, random_crop: false, flip: false });
    return tf.tensor4d(px.data, [1, px.height, px.width, 3]);
  }
  if (!gallery.includes(image)) {
    throw new UsageError(`--image ${image}: no such file, and not a gallery image id (e.g. ${gallery.slice(0, 3).join(", ")})`);
  }
  return loader.images([image], { train: false });
}
