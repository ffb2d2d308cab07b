// `sdfn query RUN_DIR --image PATH --text "…"`: ranks the run's evaluation
// gallery for one composed query and prints the top K image ids with scores.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { BACKEND_OPTION, defineCommand, UsageError } from "../command.js";
import { openRunForCommand, RUN_OPTIONS, type RunOptions } from "./open-run.js";

export const command = defineCommand({
  name: "query",
  summary: "retrieve gallery images for a reference image and a text",
  usage: 'RUN_DIR --image PATH --text "TEXT" [options]   or   RUN_DIR --list',
  description:
    "Retrieves the evaluation gallery images that best match a reference image modified by TEXT.\n" +
    "--list prints evaluation queries (reference id, text, target) to try; --html writes the retrieval as a page with its images.",
  options: {
    image: { type: "string", arg: "PATH", help: "the reference image file, or a gallery image id (generated datasets such as shapes)" },
    text: { type: "string", arg: "TEXT", help: "the modification text" },
    top: { type: "string", short: "k", arg: "K", help: "how many results (default 10)" },
    "eval-set": { type: "string", arg: "NAME", help: "rank this evaluation set's gallery (default: all galleries together); --set means a recipe override elsewhere, so it is not used here" },
    checkpoint: RUN_OPTIONS.checkpoint,
    backend: { ...BACKEND_OPTION, help: "tfjs backend (default: the recipe's)" },
    recipe: { ...RUN_OPTIONS.recipe, help: "load this recipe instead of RUN_DIR/recipe.resolved.yaml (runs with plugins)" },
    list: { type: "boolean", help: "list evaluation queries (K per set, default 10): set, index, reference id, text, target" },
    json: { type: "boolean", help: "print the result (or the --list) as JSON" },
    html: { type: "string", arg: "FILE", help: "also write the retrieval as an HTML page: thumbnails, the target if known, the routing path" },
    "no-plugins": RUN_OPTIONS["no-plugins"],
    "allow-outside-root": RUN_OPTIONS["allow-outside-root"],
  },
  notes: "Runs plugin code: the run's plugins are imported once its recipe validates (--no-plugins runs none).",
  examples: [
    "sdfn query runs/quickstart-20260101-120000 --list -k 3",
    'sdfn query runs/quickstart-20260101-120000 --image test/0/0 --text "make the red square blue" -k 5 --html q.html',
  ],
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError(`query: expected one RUN_DIR, got ${positionals.length} (see sdfn query --help)`);
    const k = Number(values.top ?? 10);
    if (!Number.isInteger(k) || k < 1) throw new UsageError(`-k ${values.top}: expected a positive integer`);
    if (values.list) return listQueries(positionals[0]!, values, k);
    if (!values.image || values.text === undefined) throw new UsageError("query: --image and --text are required (see sdfn query --help)");
    const { embedGallery } = await import("../../eval/embed.js");
    const { compiledForward } = await import("../../eval/compiled-forward.js");
    const { inference } = await import("../../nn/context.js");
    const { positiveRanks, topK } = await import("../../eval/retrieval.js");
    const run = await openRunForCommand(positionals[0]!, values);
    const { loaded, dataset, net } = run;
    try {
      const sets = values["eval-set"] ? dataset.evalSets.filter((s) => s.name === values["eval-set"]) : dataset.evalSets;
      if (sets.length === 0) {
        throw new UsageError(`--eval-set ${values["eval-set"]}: no such evaluation set; the run has ${dataset.evalSets.map((s) => s.name).join(", ")}`);
      }
      const gallery = [...new Set(sets.flatMap((s) => s.gallery))];
      // an image id: a gallery image or any evaluation query's reference (see --list)
      const ids = new Set([...gallery, ...dataset.evalSets.flatMap((s) => s.queries.map((q) => q.reference))]);
      const reference = await referenceImage(values.image, ids, dataset.loader, loaded.recipe.data as Record<string, unknown>);
      const { tokens, mask } = dataset.loader.texts([values.text]);
      const { query, paths } = tf.tidy(() => {
        const out = net.encodeQuery({ reference, tokens, mask }, inference);
        return { query: out.query, paths: out.paths };
      });
      tf.dispose([reference, tokens, mask]);
      const path = await Promise.all(paths.map(async (p) => (await p.array())[0]!));
      tf.dispose(paths);
      // training.compile: on torch the gallery's batches are replayed natively (freed with the run's session)
      const forward = run.session.own(compiledForward(net, loaded.recipe.training.compile, (message) => process.stderr.write(`warning: ${message}\n`)));
      const embeddings = await embedGallery(forward ?? net, dataset.loader, gallery, loaded.recipe.evaluation.batch_size);
      const self = gallery.indexOf(values.image);
      const exclude = self >= 0 ? [self] : [];
      const [top] = await topK(query, embeddings, [{ exclude }], k);
      const { knownTargets, rankedJson, targetLine, writeQueryPage } = await import("./query-output.js");
      // A known target's rank over the whole gallery, inside the top K or beyond it.
      const positives = knownTargets(dataset, values.image, values.text).map((id) => gallery.indexOf(id)).filter((i) => i >= 0);
      const [rank] = positives.length ? await positiveRanks(query, embeddings, [{ exclude, positives }]) : [Infinity];
      tf.dispose([query, embeddings]);
      const ranked = {
        reference: values.image,
        text: values.text,
        set: values["eval-set"] ?? null,
        gallerySize: gallery.length,
        top: top!.map(({ index, score }) => ({ id: gallery[index]!, score })),
        targets: knownTargets(dataset, values.image, values.text),
        targetRank: Number.isFinite(rank) ? rank! : null,
      };
      if (values.json) process.stdout.write(rankedJson(ranked));
      else {
        process.stdout.write(`top ${k} of ${gallery.length} gallery images for "${values.text}" (reference ${values.image}):\n`);
        const targets = new Set(ranked.targets);
        ranked.top.forEach(({ id, score }, i) => process.stdout.write(`${String(i + 1).padStart(3)}  ${score.toFixed(4)}  ${id}${targets.has(id) ? "  ← target" : ""}\n`));
        if (ranked.targets.length) process.stdout.write(`${targetLine(ranked)}\n`);
      }
      if (values.html) {
        await writeQueryPage(values.html, dataset, ranked, path, net.layers, existsSync(values.image) ? values.image : undefined);
        if (!values.json) process.stdout.write(`html: ${resolve(values.html)}\n`);
      }
      return 0;
    } finally {
      run.dispose();
    }
  },
});

/** `--list`: K evaluation queries per set to try, as lines or JSON. */
async function listQueries(runDir: string, values: RunOptions & { "eval-set"?: string; json?: boolean }, k: number): Promise<number> {
  const { exampleList, listText } = await import("./query-output.js");
  const run = await openRunForCommand(runDir, values);
  try {
    if (values["eval-set"] && !run.dataset.evalSets.some((s) => s.name === values["eval-set"])) {
      throw new UsageError(`--eval-set ${values["eval-set"]}: no such evaluation set; the run has ${run.dataset.evalSets.map((s) => s.name).join(", ")}`);
    }
    const list = exampleList(run.dataset, values["eval-set"], k);
    process.stdout.write(values.json ? `${JSON.stringify(list, null, 2)}\n` : listText(list));
    return 0;
  } finally {
    run.dispose();
  }
}

/** A file path is decoded like an evaluation image; otherwise it must be an image id of the evaluation sets. */
async function referenceImage(
  image: string,
  ids: ReadonlySet<string>,
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
  if (!ids.has(image)) {
    throw new UsageError(`--image ${image}: no such file, and not an image id of the run's evaluation sets (e.g. ${[...ids].slice(0, 3).join(", ")}; sdfn query RUN_DIR --list shows queries)`);
  }
  return loader.images([image], { train: false });
}
