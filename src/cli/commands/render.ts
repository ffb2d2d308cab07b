// `sdfn render RECIPE` — the resolved recipe: extends merged, --set applied, every default filled in.
import { NO_PLUGINS_OPTION, PLUGIN_OPTION, SET_OPTION, UsageError, defineCommand, pluginFlags } from "../command.js";

export const command = defineCommand({
  name: "render",
  summary: "print a recipe resolved: extends merged, overrides applied, every default filled in",
  usage: "RECIPE [--set KEY.PATH=VALUE]... [--plugin FILE]... [--json]",
  description: `Prints the recipe as sdfn will run it: bases from \`extends:\` merged in, --set
overrides applied and every parameter's default written out, as YAML (or JSON).
A run directory keeps this same text as recipe.resolved.yaml. Nothing is written.`,
  options: {
    set: { ...SET_OPTION, arg: "KEY.PATH=VALUE", help: "override a value (parsed as YAML). Repeatable." },
    plugin: { ...PLUGIN_OPTION, help: "load a plugin (relative to the working directory). Repeatable." },
    json: { type: "boolean", help: "print canonical JSON (sorted keys) instead of YAML; its sha256 is the recipe hash." },
    "no-plugins": NO_PLUGINS_OPTION,
  },
  notes: `Runs plugin code: the recipe's plugins (and --plugin files) are imported once it validates
without them, to check and fill in their modules' parameters (--no-plugins runs none).
Exit code: 0, or 2 when the recipe is invalid (its problems are printed instead).`,
  examples: ["sdfn render recipes/sdfn-fashioniq.yaml --set fusion.layers=2"],
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError("render: name exactly one recipe, e.g. sdfn render recipes/sdfn-fashioniq.yaml");
    const { loadRecipe, canonicalJson } = await import("../../recipe/index.js");
    const loaded = await loadRecipe(positionals[0]!, { sets: values.set, ...pluginFlags(values) });
    process.stdout.write(values.json ? `${canonicalJson(loaded.recipe)}\n` : loaded.yaml);
    return 0;
  },
});
