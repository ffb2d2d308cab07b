// `sdfn sweep RECIPE|DIR --grid KEY=[…] --seeds N`: every variant × seed as an ordinary
// run directory under one sweep directory, one after another, resumable; one line per run.
import { basename, join, relative, resolve } from "node:path";
import { ALLOW_OUTSIDE_ROOT_OPTION, BACKEND_OPTION, defineCommand, NO_PLUGINS_OPTION, SET_OPTION, UsageError, type OptionSpecs, type ParsedArgs } from "../command.js";
import { defaultRunDir } from "./build.js";
import { memoryProblem } from "../memory-check.js";

const SPEC = {
  grid: { type: "string", multiple: true, arg: "KEY=[V1,V2,…]", help: "values to sweep for one recipe key (repeatable: every combination)" },
  seeds: { type: "string", arg: "N", help: "seeds 0 … N−1 for every variant (default 1; sets the recipe's seed)" },
  set: { ...SET_OPTION, help: "override a recipe value in every run (repeatable)" },
  out: { type: "string", arg: "DIR", help: "the sweep directory (default runs/sweep-<name>-<timestamp>)" },
  resume: { type: "string", arg: "SWEEP_DIR", help: "continue the sweep planned in SWEEP_DIR/sweep.json" },
  backend: BACKEND_OPTION,
  log: { type: "string", arg: "MODE", help: "auto | plain | json (default auto: lines redrawn on a terminal)" },
  "dry-run": { type: "boolean", help: "validate every variant and list the runs and their state; train nothing" },
  "no-plugins": NO_PLUGINS_OPTION,
  "allow-outside-root": ALLOW_OUTSIDE_ROOT_OPTION,
} as const satisfies OptionSpecs;

type Values = ParsedArgs<typeof SPEC>["values"];

function seedList(text: string | undefined): number[] {
  if (text === undefined) return [0];
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError(`--seeds ${text}: expected a whole number of seeds ≥ 1`);
  return Array.from({ length: n }, (_, i) => i);
}

/** The plan from the arguments, or the one saved in --resume's sweep.json; and the sweep directory. */
async function planOf(values: Values, positionals: string[]) {
  const { planSweep, parseGrid, planDifference, readPlan, SweepError } = await import("../../sweep/plan.js");
  try {
    if (values.resume) {
      if (positionals.length > 0 || values.grid || values.seeds || values.set) {
        throw new UsageError("--resume SWEEP_DIR continues the saved plan: give no RECIPE, --grid, --seeds or --set with it");
      }
      const plan = readPlan(values.resume);
      if (!plan) throw new UsageError(`--resume ${values.resume}: no sweep.json there; give a directory written by \`sdfn sweep\``);
      return { plan, dir: values.resume };
    }
    if (positionals.length !== 1) throw new UsageError(`sweep: expected one RECIPE or DIR, got ${positionals.length} (see sdfn sweep --help)`);
    const source = positionals[0]!;
    const plan = planSweep(source, { grid: (values.grid ?? []).map(parseGrid), seeds: seedList(values.seeds), sets: values.set ?? [] });
    const dir = values.out ?? defaultRunDir(`sweep-${basename(source).replace(/\.ya?ml$/, "") || "recipes"}`);
    const saved = readPlan(dir);
    const differs = saved ? planDifference(plan, saved) : "";
    if (differs) {
      throw new UsageError(`--out ${resolve(dir)} holds another sweep (${differs}); give the same RECIPE, --grid, --seeds and --set, or another --out`);
    }
    return { plan, dir };
  } catch (err) {
    if (err instanceof SweepError) throw new UsageError(err.message);
    throw err;
  }
}

export const command = defineCommand({
  name: "sweep",
  summary: "train a grid of variants × seeds, one run directory each, resumable",
  usage: ["RECIPE|DIR [options]", "--resume SWEEP_DIR"],
  description: `Trains every variant × seed as a run directory SWEEP_DIR/VARIANT/seed-N, one after another.
A variant is a recipe (DIR: each *.yaml in it) with one combination of the --grid values.
Run it again (or --resume) to continue: finished runs are skipped, an interrupted one resumes.
Compare the runs with \`sdfn compare SWEEP_DIR\`.`,
  options: SPEC,
  notes: "Runs plugin code: each variant's plugins are imported once it validates without them (--no-plugins runs none).",
  examples: [
    "sdfn sweep recipes/quickstart.yaml --grid 'fusion.router.type=[static,shared,msr]' --seeds 3",
    "sdfn sweep recipes/ablations/ --set training.epochs=2 --out runs/table3",
  ],
  async run({ values, positionals }) {
    const log = values.log ?? "auto";
    if (!["auto", "plain", "json"].includes(log)) throw new UsageError(`--log ${log}: expected auto, plain or json`);
    const { plan, dir } = await planOf(values, positionals);
    const { loadRecipe, RecipeError } = await import("../../recipe/index.js");
    const load = { noPlugins: values["no-plugins"], allowOutsideRoot: values["allow-outside-root"] };
    // Every variant must be valid before anything is written.
    const problems: string[] = [];
    const variants = new Map(plan.runs.map((r) => [r.variant, r]));
    for (const run of variants.values()) {
      const loaded = await loadRecipe(run.recipe, { sets: run.sets, ...load }).catch((err: Error) => {
        if (!(err instanceof RecipeError)) throw err;
        problems.push(`variant ${run.variant} (${run.label}):\n${err.message}`);
      });
      const tooLarge = loaded && (await memoryProblem(loaded));
      if (tooLarge) problems.push(`variant ${run.variant} (${run.label}):\n${new RecipeError([tooLarge]).message}`);
    }
    if (problems.length > 0) {
      process.stderr.write(`${problems.join("\n")}\n`);
      return 2;
    }
    const { runState, writePlan } = await import("../../sweep/plan.js");
    if (values["dry-run"]) {
      for (const r of plan.runs) process.stdout.write(`${r.id}  ${runState(join(dir, r.id))}  ${r.label} seed=${r.seed}\n`);
      process.stdout.write(`${plan.runs.length} runs in ${resolve(dir)}; --dry-run: nothing trained or written\n`);
      return 0;
    }
    const { useBackend, backendNames } = await import("../../backend/index.js");
    const backendName = values.backend ?? (await loadRecipe(plan.runs[0]!.recipe, { sets: plan.runs[0]!.sets, ...load })).recipe.backend;
    if (!(backendNames as readonly string[]).includes(backendName)) {
      throw new UsageError(`--backend ${backendName}: expected one of ${backendNames.join(", ")}`);
    }
    const backend = await useBackend(backendName);
    writePlan(dir, plan);
    return sweep(dir, plan, { backend: backend.name, device: backend.device, log, backendFlag: values.backend, load });
  },
});

async function sweep(
  dir: string,
  plan: import("../../sweep/plan.js").SweepPlan,
  opts: { backend: string; device: string; log: string; backendFlag?: string; load: Pick<import("../../recipe/index.js").LoadOptions, "noPlugins" | "allowOutsideRoot"> },
): Promise<number> {
  const { runSweep } = await import("../../sweep/run.js");
  const { createSweepLines } = await import("../render/sweep-lines.js");
  const tty = process.stdout.isTTY && process.env.CI !== "true";
  const lines = createSweepLines((t) => process.stdout.write(t), opts.log === "json" ? "json" : opts.log === "plain" || !tty ? "plain" : "tty");
  const shown = relative(process.cwd(), dir).startsWith("..") ? resolve(dir) : relative(process.cwd(), dir) || dir;
  const flags = `${opts.backendFlag ? ` --backend ${opts.backendFlag}` : ""}${opts.load.noPlugins ? " --no-plugins" : ""}${opts.load.allowOutsideRoot ? " --allow-outside-root" : ""}`;
  const resumeCommand = `sdfn sweep --resume ${shown}${flags}`;
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new Error("stopped by the user"));
  };
  process.on("SIGINT", onSigint);
  try {
    const outcome = await runSweep(dir, plan, { backend: opts.backend, device: opts.device, onEvent: lines.sink, signal: controller.signal, resumeCommand, load: opts.load });
    lines.close();
    if (opts.log !== "json") {
      const done = `${outcome.trained} trained, ${outcome.skipped} finished earlier`;
      const next = outcome.status === "completed" ? `compare: sdfn compare ${shown}` : `resume: ${resumeCommand}`;
      process.stdout.write(`sweep ${outcome.status} (${done}); ${next}\n`);
    }
    return outcome.status === "failed" ? 1 : 0;
  } catch (err) {
    lines.close();
    process.stderr.write(`error: ${(err as Error).message}\n`);
    const { DataError } = await import("../../data/index.js");
    return err instanceof DataError ? 2 : 1;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
