// `sdfn render RECIPE` — the resolved recipe: extends merged, --set applied, every default filled in.
import type { Command } from "../command.js";
import { parseCommandArgs, UsageError } from "../command.js";

export const command: Command = {
  name: "render",
  summary: "print a recipe resolved: extends merged, overrides applied, every default filled in",
  help: `Usage: sdfn render RECIPE [--set KEY.PATH=VALUE]... [--plugin FILE]... [--json]

Prints the recipe as sdfn will run it: bases from \`extends:\` merged in, --set
overrides applied and every parameter's default written out, as YAML (or JSON).
A run directory keeps this same text as recipe.resolved.yaml. Nothing is written.

Options:
  --set KEY.PATH=VALUE   override a value (parsed as YAML). Repeatable.
  --plugin FILE          load a plugin (relative to the working directory). Repeatable.
  --json                 print canonical JSON (sorted keys) instead of YAML; its sha256 is the recipe hash.

Exit code: 0, or 2 when the recipe is invalid (its problems are printed instead).

Example:
  sdfn render recipes/sdfn-fashioniq.yaml --set fusion.layers=2`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs("render", argv, {
      set: { type: "string", multiple: true },
      plugin: { type: "string", multiple: true },
      json: { type: "boolean" },
    });
    if (positionals.length !== 1) throw new UsageError("render: name exactly one recipe, e.g. sdfn render recipes/sdfn-fashioniq.yaml");
    const { loadRecipe, canonicalJson } = await import("../../recipe/index.js");
    const loaded = await loadRecipe(positionals[0]!, { sets: values.set, plugins: values.plugin });
    process.stdout.write(values.json ? `${canonicalJson(loaded.recipe)}\n` : loaded.yaml);
    return 0;
  },
};
