// `sdfn eval RUN_DIR`: evaluates a run's best (or last) checkpoint with its
// dataset's protocol and prints Recall@K per evaluation set and averaged.
import { BACKEND_OPTION, defineCommand, UsageError } from "../command.js";
import { openRunForCommand, RUN_OPTIONS } from "./open-run.js";

export const command = defineCommand({
  name: "eval",
  summary: "evaluate a run's checkpoint (Recall@K per protocol)",
  usage: "RUN_DIR [options]",
  description: `Re-evaluates a run directory's checkpoint on its dataset's evaluation sets.
With data.missing_images: skip, a recall measured without some evaluation images
is marked not comparable to published numbers, with what was dropped
(docs/datasets.md).`,
  options: {
    checkpoint: RUN_OPTIONS.checkpoint,
    backend: { ...BACKEND_OPTION, help: "tfjs backend (default: the recipe's)" },
    json: { type: "boolean", help: "print the metrics as one JSON object" },
    recipe: {
      ...RUN_OPTIONS.recipe,
      help: "load this recipe instead of RUN_DIR/recipe.resolved.yaml\n(a run with plugins: its resolved recipe lists them relative to the original)",
    },
    "no-plugins": RUN_OPTIONS["no-plugins"],
    "allow-outside-root": RUN_OPTIONS["allow-outside-root"],
  },
  notes: "Runs plugin code: the run's plugins are imported once its recipe validates (--no-plugins runs none).",
  examples: ["sdfn eval runs/quickstart-20260101-120000 --checkpoint last"],
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError(`eval: expected one RUN_DIR, got ${positionals.length} (see sdfn eval --help)`);
    const { evaluate } = await import("../../eval/evaluate.js");
    const { compiledForward } = await import("../../eval/compiled-forward.js");
    const { summaryRecall } = await import("../../eval/protocols.js");
    const { positionText, weightsEpoch } = await import("../../run/epochs.js");
    const run = await openRunForCommand(positionals[0]!, values);
    const { loaded, dataset, net, meta } = run;
    const tag = values.checkpoint ?? "best";
    try {
      const ks = loaded.recipe.evaluation.recall_at;
      // training.compile: on torch the forward is recorded and replayed natively (freed with the run's session)
      const t = loaded.recipe.training;
      const forward = run.session.own(compiledForward(net, t.compile, (message) => process.stderr.write(`warning: ${message}\n`), t.text_bucket));
      const metrics = await evaluate(forward ?? net, dataset.loader, dataset.evalSets, { ks, batchSize: loaded.recipe.evaluation.batch_size });
      // data.missing_images: skip: the recall of a gallery or queries without their missing images
      const skipped = dataset.missingImages;
      if (values.json) {
        const comparable = skipped ? { missing_images: skipped, comparable_to_published: skipped.comparable } : {};
        process.stdout.write(`${JSON.stringify({ checkpoint: tag, epoch: weightsEpoch(meta), recall: summaryRecall(metrics, ks), metrics, ...comparable })}\n`);
        return 0;
      }
      process.stdout.write(`${loaded.recipe.name}: ${tag} checkpoint (${positionText(meta)}; global step ${meta.step})\n`);
      const header = ["set", ...ks.map((k) => `R@${k}`), "mean"];
      const rows = [...dataset.evalSets.map((s) => s.name), ...(dataset.evalSets.length > 1 ? ["avg"] : [])].map((name) => [
        name,
        ...ks.map((k) => metrics[`${name}/R@${k}`]!.toFixed(2)),
        metrics[`${name}/mean`]!.toFixed(2),
      ]);
      const { formatTable } = await import("../../view/table.js");
      for (const line of formatTable(header, rows)) process.stdout.write(`${line}\n`);
      if (skipped && !skipped.comparable) {
        const { NOT_COMPARABLE, missingImagesLine } = await import("../../data/missing-images.js");
        process.stdout.write(`${NOT_COMPARABLE}\n${missingImagesLine(skipped)}\n`);
      }
      return 0;
    } finally {
      run.dispose();
    }
  },
});
