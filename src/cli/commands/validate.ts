// `sdfn validate RECIPE...` — loads each recipe (extends, --set, plugins) and reports every problem.
import { formatProblem } from "../../recipe/problems.js";
import type { Command } from "../command.js";
import { parseCommandArgs, UsageError } from "../command.js";

export const command: Command = {
  name: "validate",
  summary: "check recipes: every problem at once, as FILE:LINE:COL: error: MESSAGE",
  help: `Usage: sdfn validate RECIPE... [--set KEY.PATH=VALUE]... [--plugin FILE]...

Checks each recipe against the recipe schema (built from every registered module,
router, encoder, loss, dataset, optimizer and schedule, plugins included): prints
"ok RECIPE" for a valid one, and every problem of an invalid one, one per line:

  recipes/x.yaml:21:15: error: unknown fusion module "JMR"; did you mean "JRM"? (registered fusion modules: JRM, CAM, GTM, RCM)

Options:
  --set KEY.PATH=VALUE   override a value after extends (parsed as YAML: 5, true, [10, 50], {type: step});
                         list entries by index: --set fusion.modules.1.heads=4. Repeatable.
  --plugin FILE          load a plugin (.ts/.js, relative to the working directory) before validating. Repeatable.

Exit code: 0 when every recipe is valid, 2 otherwise.

Example:
  sdfn validate recipes/*.yaml
  sdfn validate recipes/sdfn-fashioniq.yaml --set training.epochs=5`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs("validate", argv, {
      set: { type: "string", multiple: true },
      plugin: { type: "string", multiple: true },
    });
    if (positionals.length === 0) throw new UsageError("validate: name at least one recipe, e.g. sdfn validate recipes/sdfn-fashioniq.yaml");
    const { loadRecipe, RecipeError } = await import("../../recipe/index.js");
    let failed = 0;
    for (const file of positionals) {
      try {
        await loadRecipe(file, { sets: values.set, plugins: values.plugin });
        process.stdout.write(`ok ${file}\n`);
      } catch (err) {
        if (!(err instanceof RecipeError)) throw err;
        failed += 1;
        process.stderr.write(err.problems.map((p) => `${formatProblem(p)}\n`).join(""));
      }
    }
    if (failed > 0 && positionals.length > 1) {
      process.stderr.write(`${failed} of ${positionals.length} recipes are invalid\n`);
    }
    return failed > 0 ? 2 : 0;
  },
};
