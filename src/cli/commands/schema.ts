// `sdfn schema` — the JSON Schema of recipes, generated from the registry (plugins included).
import { PLUGIN_OPTION, UsageError, defineCommand, NO_PLUGINS_OPTION, pluginFlags } from "../command.js";

export const command = defineCommand({
  name: "schema",
  summary: "print the recipe JSON Schema (draft 2020-12) generated from the registry",
  usage: "[--plugin FILE]... [--out FILE]",
  description: `Prints the JSON Schema of recipes: every registered module, router, encoder,
loss, dataset, optimizer and schedule with its parameters, defaults and
descriptions, discriminated by \`type:\` (\`dataset:\` for data). Editors with
yaml-language-server use it through the first line of a recipe:

  # yaml-language-server: $schema=../schemas/recipe.schema.json

schemas/recipe.schema.json is this output for the built-ins; after changing any
declaration's params, regenerate it with \`npm run schema\` (a test checks it).`,
  options: {
    plugin: { ...PLUGIN_OPTION, help: "include a plugin's declarations (relative to the working directory). Repeatable.\nPlugins are code: this runs the file." },
    "no-plugins": { ...NO_PLUGINS_OPTION, help: "run no plugin file (only the built-ins are listed)" },
    out: { type: "string", arg: "FILE", help: "write the schema to FILE instead of printing it (written only on success)." },
  },
  examples: ["sdfn schema --plugin examples/plugins/gated-sum.ts --out my.schema.json"],
  async run({ values, positionals }) {
    if (positionals.length > 0) throw new UsageError(`schema: takes no recipe (got "${positionals[0]}"); use --plugin FILE to include plugins`);
    const { loadRegistry, recipeJsonSchema } = await import("../../recipe/index.js");
    const registry = await loadRegistry(pluginFlags(values).plugins);
    const text = `${JSON.stringify(recipeJsonSchema(registry), null, 2)}\n`;
    if (values.out) {
      const { writeFile } = await import("node:fs/promises");
      await writeFile(values.out, text);
    } else process.stdout.write(text);
    return 0;
  },
});
