// `sdfn build RECIPE`: validate the recipe, compile the network, train, evaluate,
// and leave a run directory (recipe.resolved.yaml, metrics.jsonl, summary.json,
// checkpoints/, vocabulary.json). Nothing is written until the recipe is valid.
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { RUN_FILES, RunDir } from "../../run/run-dir.js";
import { UsageError, type Command } from "../command.js";

const help = `Usage: sdfn build RECIPE [options]

Validates RECIPE, compiles its network, trains, evaluates and writes a run directory.

Options:
  --out DIR          run directory (default runs/<name>-<timestamp>)
  --resume RUN_DIR   continue RUN_DIR from its last checkpoint (same recipe and --set options)
  --set KEY=VALUE    override a recipe value, e.g. --set training.epochs=2 (repeatable)
  --plugin FILE      load a plugin that registers modules, routers, losses, ... (repeatable)
  --backend NAME     auto | cpu | torch | wasm | tensorflow | webgpu (default: the recipe's)
  --log MODE         auto | plain | json (default auto: the dashboard on a terminal)
  --dry-run          validate and print the network summary; train nothing, write nothing

Example:
  sdfn build recipes/quickstart.yaml --set fusion.router.type=static
`;

/** runs/<name>-YYYYMMDD-HHMMSS (UTC). */
export function defaultRunDir(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return join("runs", `${name}-${stamp}`);
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: "string" },
        resume: { type: "string" },
        set: { type: "string", multiple: true },
        plugin: { type: "string", multiple: true },
        backend: { type: "string" },
        log: { type: "string" },
        "dry-run": { type: "boolean" },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${help}`);
  }
}

export const command: Command = {
  name: "build",
  summary: "validate a recipe, train and evaluate it, write a run directory",
  help,
  async run(argv) {
    const { values, positionals } = parse(argv);
    if (positionals.length > 1) throw new UsageError(`expected one RECIPE, got ${positionals.length}: ${positionals.join(" ")}`);
    const resume = values.resume;
    const previous = resume ? new RunDir(resume) : null;
    const file = positionals[0] ?? (resume ? join(resume, RUN_FILES.recipe) : undefined);
    if (!file) throw new UsageError(`missing RECIPE\n\n${help}`);
    if (!existsSync(file)) throw new UsageError(`${file}: no such recipe file`);
    if (previous && !previous.hasCheckpoint("last")) {
      throw new UsageError(`--resume ${resume}: no checkpoints/last.json there; give a run directory written by \`sdfn build\``);
    }
    const log = values.log ?? "auto";
    if (!["auto", "plain", "json"].includes(log)) throw new UsageError(`--log ${log}: expected auto, plain or json`);

    const { loadRecipe, RecipeError } = await import("../../recipe/index.js");
    let loaded;
    try {
      loaded = await loadRecipe(file, { sets: values.set ?? [], plugins: values.plugin ?? [] });
    } catch (err) {
      if (err instanceof RecipeError) {
        process.stderr.write(`${err.message}\n`);
        return 2;
      }
      throw err;
    }
    if (resume) {
      const saved = JSON.parse(readFileSync(new RunDir(resume).checkpoint("last").meta, "utf8")) as { recipeHash?: string };
      if (saved.recipeHash !== loaded.hash) {
        throw new UsageError(
          `--resume ${resume}: the run was trained with a different recipe (or different --set/--plugin options); ` +
            `give the same ones, or omit RECIPE to use ${join(resume, RUN_FILES.recipe)}`,
        );
      }
    }
    const { useBackend, backendNames } = await import("../../backend/index.js");
    const backendName = values.backend ?? loaded.recipe.backend;
    if (!(backendNames as readonly string[]).includes(backendName)) {
      throw new UsageError(`--backend ${backendName}: expected one of ${backendNames.join(", ")}`);
    }
    let backend;
    try {
      backend = await useBackend(backendName);
    } catch (err) {
      process.stderr.write(`error: backend "${backendName}": ${(err as Error).message}\n`);
      return 1;
    }
    if (values["dry-run"]) return dryRun(loaded);

    const { createRenderer } = await import("../render/index.js");
    const { train } = await import("../../run/train.js");
    const outDir = values.out ?? defaultRunDir(loaded.recipe.name);
    const runDir = resume ?? outDir;
    const again = ["sdfn build", relative(process.cwd(), file) || file];
    for (const s of values.set ?? []) again.push(`--set ${JSON.stringify(s)}`);
    for (const p of values.plugin ?? []) again.push(`--plugin ${p}`);
    if (values.backend) again.push(`--backend ${values.backend}`);
    again.push(`--resume ${runDir}`);

    const renderer = createRenderer({ mode: log as "auto" | "plain" | "json" });
    try {
      const summary = await train(loaded, {
        outDir,
        resume,
        backend: backend.name,
        device: backend.device,
        onEvent: renderer.sink,
        signal: renderer.signal,
        resumeCommand: again.join(" "),
      });
      await renderer.close();
      const { writeReport } = await import("../../report/index.js");
      const report = await writeReport(summary.run_dir);
      if (renderer.mode !== "json") process.stdout.write(`report: ${relative(process.cwd(), report) || report}\n`);
      // q or a first Ctrl-C stops cleanly with a checkpoint: 0 (a second Ctrl-C exits 130 in the renderer).
      return summary.status === "completed" || summary.status === "interrupted" ? 0 : 1;
    } catch (err) {
      await renderer.close();
      process.stderr.write(`error: ${(err as Error).message}\n`);
      const { DataError } = await import("../../data/index.js");
      return err instanceof DataError ? 2 : 1; // data missing or malformed: bad input, nothing trained
    }
  },
};

/** Compiles the network and prints its summary; writes nothing. */
async function dryRun(loaded: import("../../recipe/index.js").LoadedRecipe): Promise<number> {
  const [{ openDataset }, { compileNetwork }, { summarizeNetwork }] = await Promise.all([
    import("../../data/index.js"),
    import("../../graph/compile.js"),
    import("../../graph/summary.js"),
  ]);
  // The graph is printed even when the data is not there yet (e.g. the paper recipes before
  // a download): the vocabulary then is a placeholder and text.embedding is counted for it.
  const dataset = await openDataset(loaded.recipe, loaded.registry).catch((err: Error) => err);
  const vocabulary = dataset instanceof Error ? { size: 1, words: ["<pad>"] } : dataset.vocabulary;
  const net = compileNetwork(loaded.recipe, loaded.registry, { vocabulary, recipeDir: loaded.dir });
  try {
    const t = loaded.recipe.training;
    process.stdout.write(`${summarizeNetwork(net)}\n`);
    process.stdout.write(
      (dataset instanceof Error
        ? `data: not available (${dataset.message.split("\n")[0]}); text.embedding counted for a 1-word vocabulary\n`
        : `data: ${dataset.train.length} training pairs, ${dataset.evalSets.map((s) => `${s.name} ${s.queries.length} queries / ${s.gallery.length} images`).join(", ")}; vocabulary ${dataset.vocabulary.size}\n`) +
        `training: ${t.epochs} epochs × batch ${t.batch_size}, ${t.optimizer.type}, schedule ${t.schedule.type}; losses ${loaded.recipe.losses.map((l) => `${l.type}×${String(l.weight)}`).join(" + ")}\n` +
        `recipe valid (hash ${loaded.hash.slice(0, 12)}); --dry-run: nothing trained or written\n`,
    );
  } finally {
    net.dispose();
  }
  return 0;
}
