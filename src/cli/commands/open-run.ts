// Shared by `sdfn eval` and `sdfn query`: checks --checkpoint, picks the backend
// and opens a run directory, turning a bad RUN_DIR into a usage error (exit 2).
import { UsageError, type OptionSpec } from "../command.js";
import type { OpenedRun } from "../../run/open-run.js";

/** The options every command that opens a run directory shares. */
export const RUN_OPTIONS = {
  checkpoint: { type: "string", arg: "best|last", help: "which checkpoint (default best)" },
  recipe: { type: "string", arg: "FILE", help: "load this recipe instead of RUN_DIR/recipe.resolved.yaml" },
} as const satisfies Record<string, OptionSpec>;

export interface RunOptions {
  checkpoint?: string;
  backend?: string;
  recipe?: string;
}

/** Opens RUN_DIR's best or last checkpoint on the backend the user or the recipe asks for. */
export async function openRunForCommand(runDir: string, values: RunOptions): Promise<OpenedRun> {
  const tag = values.checkpoint ?? "best";
  if (tag !== "best" && tag !== "last") throw new UsageError(`--checkpoint ${tag}: expected best or last`);
  const { openRun } = await import("../../run/open-run.js");
  const { useBackend } = await import("../../backend/index.js");
  try {
    return await openRun(
      runDir,
      tag,
      async (loaded) => {
        await useBackend(values.backend ?? loaded.recipe.backend);
      },
      values.recipe,
    );
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
