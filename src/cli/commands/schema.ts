// `sdfn schema` — the JSON Schema of recipes, generated from the registry (plugins included).
import type { Command } from "../command.js";
import { parseCommandArgs, UsageError } from "../command.js";

export const command: Command = {
  name: "schema",
  summary: "print the recipe JSON Schema (draft 2020-12) generated from the registry",
  help: `Usage: sdfn schema [--plugin FILE]... [--out FILE]

Prints the JSON Schema of recipes: every registered module, router, encoder,
loss, dataset, optimizer and schedule with its parameters, defaults and
descriptions, discriminated by \`type:\` (\`dataset:\` for data). Editors with
yaml-language-server use it through the first line of a recipe:

  # yaml-language-server: $schema=../schemas/recipe.schema.json

schemas/recipe.schema.json is this output for the built-ins; after changing any
declaration's params, regenerate it with \`npm run schema\` (a test checks it).

Options:
  --plugin FILE   include a plugin's declarations (relative to the working directory). Repeatable.
  --out FILE      write the schema to FILE instead of printing it (written only on success).

Example:
  sdfn schema --plugin examples/plugins/gated-sum.ts --out my.schema.json`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs("schema", argv, {
      plugin: { type: "string", multiple: true },
      out: { type: "string" },
    });
    if (positionals.length > 0) throw new UsageError(`schema: takes no recipe (got "${positionals[0]}"); use --plugin FILE to include plugins`);
    const { loadRegistry, recipeJsonSchema } = await import("../../recipe/index.js");
    const registry = await loadRegistry(values.plugin ?? []);
    const text = `${JSON.stringify(recipeJsonSchema(registry), null, 2)}\n`;
    if (values.out) {
      const { writeFile } = await import("node:fs/promises");
      await writeFile(values.out, text);
    } else process.stdout.write(text);
    return 0;
  },
};
