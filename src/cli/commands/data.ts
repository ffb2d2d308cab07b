// `sdfn data RECIPE` — the recipe's dataset statistics as JSON (pairs, queries,
// gallery sizes, vocabulary, missing images), without training anything.
import type { Command } from "../command.js";
import { parseCommandArgs, UsageError } from "../command.js";

export const command: Command = {
  name: "data",
  summary: "dataset statistics of a recipe as JSON: pairs, queries, galleries, vocabulary, missing images",
  help: `Usage: sdfn data RECIPE [--set KEY.PATH=VALUE]... [--plugin FILE]...

Opens the recipe's dataset (data.root resolves against the working directory) and
prints its statistics as JSON: per split and category the pairs or queries, the
gallery size, the images and how many are missing, tokens and unknown tokens
under the vocabulary built from the training captions (data.min_count).
Unlike sdfn build, missing images are counted here, not refused.

Options:
  --set KEY.PATH=VALUE   override a recipe value, e.g. --set data.protocol=original. Repeatable.
  --plugin FILE          load a plugin before validating. Repeatable.

Exit code: 0 with statistics, 1 when the annotation files cannot be read, 2 for an invalid recipe.

Example:
  sdfn data recipes/sdfn-fashioniq.yaml --set data.root=/datasets/fashioniq`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs("data", argv, {
      set: { type: "string", multiple: true },
      plugin: { type: "string", multiple: true },
    });
    if (positionals.length !== 1) throw new UsageError("data: name one recipe, e.g. sdfn data recipes/quickstart.yaml");
    const { loadRecipe } = await import("../../recipe/index.js");
    const { loadDatasetSource, buildVocabulary, datasetStatistics } = await import("../../data/index.js");
    const loaded = await loadRecipe(positionals[0]!, { sets: values.set, plugins: values.plugin });
    const { source, params } = await loadDatasetSource(loaded.recipe, loaded.registry);
    const minCount = (params.min_count as number | undefined) ?? 1;
    const vocabulary = buildVocabulary(source.train.map((p) => p.text), minCount);
    const stats = datasetStatistics(loaded.recipe.data.dataset, source, vocabulary, minCount);
    process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
    return 0;
  },
};
