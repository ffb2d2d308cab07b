// Shared by `sdfn eval` and `sdfn query`: checks --checkpoint, picks the backend
// and opens a run directory (a bad RUN_DIR or a damaged file in it is a UserError: exit 2).
import { ALLOW_OUTSIDE_ROOT_OPTION, NO_PLUGINS_OPTION, UsageError, type OptionSpec } from "../command.js";
import type { OpenedRun } from "../../run/open-run.js";

/** The options every command that opens a run directory shares. */
export const RUN_OPTIONS = {
  checkpoint: { type: "string", arg: "best|last", help: "which checkpoint (default best)" },
  recipe: { type: "string", arg: "FILE", help: "load this recipe instead of RUN_DIR/recipe.resolved.yaml" },
  "no-plugins": { ...NO_PLUGINS_OPTION, help: "run none of the run's plugins (a run with plugin modules then cannot be opened)" },
  "allow-outside-root": ALLOW_OUTSIDE_ROOT_OPTION,
} as const satisfies Record<string, OptionSpec>;

export interface RunOptions {
  checkpoint?: string;
  backend?: string;
  recipe?: string;
  "no-plugins"?: boolean;
  "allow-outside-root"?: boolean;
}

/** Opens RUN_DIR's best or last checkpoint on the backend the user or the recipe asks for. */
export async function openRunForCommand(runDir: string, values: RunOptions): Promise<OpenedRun> {
  const tag = values.checkpoint ?? "best";
  if (tag !== "best" && tag !== "last") throw new UsageError(`--checkpoint ${tag}: expected best or last`);
  const { openRun } = await import("../../run/open-run.js");
  const { useBackend } = await import("../../backend/index.js");
  return openRun(
    runDir,
    tag,
    async (loaded) => {
      const name = values.backend ?? loaded.recipe.backend;
      // Unknown, or not available here (the torch addon not built, say): the user's to change.
      await useBackend(name).catch((err: Error) => {
        throw new UsageError(`backend "${name}": ${err.message}`);
      });
    },
    values.recipe,
    { noPlugins: values["no-plugins"], allowOutsideRoot: values["allow-outside-root"] },
  );
}
