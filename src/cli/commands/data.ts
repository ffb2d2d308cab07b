// `sdfn data RECIPE` — the recipe's dataset statistics as JSON (pairs, queries,
// gallery sizes, vocabulary, missing images), without training anything.
import { ALLOW_OUTSIDE_ROOT_OPTION, NO_PLUGINS_OPTION, PLUGIN_OPTION, SET_OPTION, UsageError, defineCommand, pluginFlags } from "../command.js";

export const command = defineCommand({
  name: "data",
  summary: "dataset statistics of a recipe as JSON: pairs, queries, galleries, vocabulary, missing images",
  usage: "RECIPE [--set KEY.PATH=VALUE]... [--plugin FILE]...",
  description: `Opens the recipe's dataset (data.root resolves against the working directory) and
prints its statistics as JSON: per split and category the pairs or queries, the
gallery size, the images and how many are missing, tokens and unknown tokens
under the vocabulary built from the training captions (data.min_count).
Unlike sdfn build, missing images are counted here, not refused: missing_images
gives their number, the first paths, and per split and category the training
pairs, evaluation queries and gallery images that data.missing_images: skip keeps
and drops (with policy error, what it would), and whether the evaluation stays
comparable to published numbers. For Fashion200k, protocol counts what TIRG's
gallery means for your files (label lines, duplicate lines, queries whose hit ties
a non-hit line of the same image). Where each dataset's files come from and what
to do with an incomplete download: docs/datasets.md.`,
  options: {
    set: { ...SET_OPTION, arg: "KEY.PATH=VALUE", help: "override a recipe value, e.g. --set data.protocol=original. Repeatable." },
    plugin: { ...PLUGIN_OPTION, help: "load a plugin before validating. Repeatable." },
    "no-plugins": NO_PLUGINS_OPTION,
    "allow-outside-root": ALLOW_OUTSIDE_ROOT_OPTION,
  },
  notes: `Runs plugin code: the recipe's plugins (and --plugin files) are imported once it validates.
Exit code: 0 with statistics; 2 for an invalid recipe, a malformed or missing annotation file
(named with its line and column), or a data path outside data.root.`,
  examples: [
    "sdfn data recipes/sdfn-fashioniq.yaml --set data.root=/datasets/fashioniq",
    "sdfn data recipes/sdfn-fashioniq.yaml --set data.missing_images=skip --set data.query_form=both_orders",
  ],
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError("data: name one recipe, e.g. sdfn data recipes/quickstart.yaml");
    const { loadRecipe } = await import("../../recipe/index.js");
    const { loadDatasetSource, buildVocabulary, datasetStatistics, loadingParams } = await import("../../data/index.js");
    const loaded = await loadRecipe(positionals[0]!, { sets: values.set, ...pluginFlags(values), allowOutsideRoot: values["allow-outside-root"] });
    const { source, params, missingImages } = await loadDatasetSource(loaded.recipe, loaded.registry, { allowOutsideRoot: loaded.allowOutsideRoot });
    const minCount = loadingParams(params).min_count;
    const vocabulary = buildVocabulary(source.train.map((p) => p.text), minCount);
    const stats = datasetStatistics(loaded.recipe.data.dataset, source, vocabulary, minCount, missingImages);
    process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
    return 0;
  },
});
