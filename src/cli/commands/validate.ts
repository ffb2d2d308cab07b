// `sdfn validate RECIPE...` — loads each recipe (extends, --set, plugins) and reports every problem.
import { formatProblem } from "../../recipe/problems.js";
import { memoryProblem } from "../memory-check.js";
import { PLUGIN_OPTION, SET_OPTION, UsageError, defineCommand, pluginFlags } from "../command.js";

export const command = defineCommand({
  name: "validate",
  summary: "check recipes: every problem at once, as FILE:LINE:COL: error: MESSAGE",
  usage: "RECIPE... [--set KEY.PATH=VALUE]... [--plugin FILE]...",
  description: `Checks each recipe against the recipe schema (built from every registered module,
router, encoder, loss, dataset, optimizer and schedule, plugins included): prints
"ok RECIPE" for a valid one, and every problem of an invalid one, one per line:

  recipes/x.yaml:21:15: error: unknown fusion module "JMR"; did you mean "JRM"? (registered fusion modules: JRM, CAM, GTM, RCM)

Plugins are code: validating a recipe that lists \`plugins:\` (or given --plugin) runs those
files with your permissions, as render, data, build, sweep, eval and query do, but only
once the recipe has no problem of its own (checked first without them). For a recipe you
do not trust, use --no-plugins: nothing is run, and the names its plugins would register
(acme/…) are reported as not checked instead of unknown.`,
  options: {
    set: {
      ...SET_OPTION,
      arg: "KEY.PATH=VALUE",
      help: "override a value after extends (parsed as YAML: 5, true, [10, 50], {type: step});\nlist entries by index: --set fusion.modules.1.heads=4. Repeatable.",
    },
    plugin: { ...PLUGIN_OPTION, help: "load a plugin (.ts/.js, relative to the working directory) before validating. Repeatable." },
    "no-plugins": { type: "boolean", help: "run no plugin file (for untrusted recipes); their names are not checked" },
  },
  notes: `A recipe whose training would need more memory than this machine has (or than
training.max_memory) is refused at the key to change, with the estimate: parameters (with
gradients and Adam's moments) and one step's activations, counted from the recipe.
A directory stands for the .yaml/.yml files directly inside it.

Exit code: 0 when every recipe is valid, 2 otherwise.`,
  examples: ["sdfn validate recipes/", "sdfn validate recipes/sdfn-fashioniq.yaml --set training.epochs=5"],
  async run({ values, positionals }) {
    if (positionals.length === 0) throw new UsageError("validate: name at least one recipe, e.g. sdfn validate recipes/sdfn-fashioniq.yaml");
    const { loadRecipe, RecipeError } = await import("../../recipe/index.js");
    const files = await expandDirectories(positionals);
    let failed = 0;
    for (const file of files) {
      const noPlugins = Boolean(values["no-plugins"]);
      try {
        const loaded = await loadRecipe(file, { sets: values.set, ...pluginFlags(values) });
        const tooLarge = await memoryProblem(loaded);
        if (tooLarge) throw new RecipeError([tooLarge]);
        process.stdout.write(`ok ${file}\n`);
      } catch (err) {
        if (!(err instanceof RecipeError)) throw err;
        // Without its plugins a recipe's namespaced names are unknown: not checked, not wrong.
        const unchecked = noPlugins ? err.problems.filter((p) => p.unregistered) : [];
        const problems = err.problems.filter((p) => !unchecked.includes(p));
        if (problems.length === 0) {
          const names = unchecked.map((p) => p.unregistered);
          process.stdout.write(`ok ${file} (plugins not run; not checked: ${[...new Set(names)].join(", ")} and their parameters)\n`);
          continue;
        }
        failed += 1;
        process.stderr.write(problems.map((p) => `${formatProblem(p)}\n`).join(""));
      }
    }
    if (failed > 0 && files.length > 1) {
      process.stderr.write(`${failed} of ${files.length} recipes are invalid\n`);
    }
    return failed > 0 ? 2 : 0;
  },
});

/** Each directory argument becomes the recipes directly inside it (sorted); files stay as given. */
async function expandDirectories(args: string[]): Promise<string[]> {
  const { readdir, stat } = await import("node:fs/promises");
  const path = await import("node:path");
  const out: string[] = [];
  for (const arg of args) {
    const isDir = await stat(arg).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) out.push(arg);
    else {
      const names = (await readdir(arg)).filter((n) => /\.ya?ml$/i.test(n)).sort();
      if (names.length === 0) throw new UsageError(`validate: ${arg} holds no .yaml recipes`);
      out.push(...names.map((n) => path.join(arg, n)));
    }
  }
  return out;
}
