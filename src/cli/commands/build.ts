// `sdfn build RECIPE`: validate the recipe, compile the network, train, evaluate,
// and leave a run directory (recipe.resolved.yaml, metrics.jsonl, summary.json,
// checkpoints/, vocabulary.json). Nothing is written until the recipe is valid.
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { RUN_FILES, RunDir } from "../../run/run-dir.js";
import { ALLOW_OUTSIDE_ROOT_OPTION, BACKEND_OPTION, defineCommand, NO_PLUGINS_OPTION, PLUGIN_OPTION, pluginFlags, SET_OPTION, UsageError } from "../command.js";

const LOG_MODES = ["auto", "plain", "json"] as const;

/** runs/<name>-YYYYMMDD-HHMMSS (UTC). */
export function defaultRunDir(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return join("runs", `${name}-${stamp}`);
}

export const command = defineCommand({
  name: "build",
  summary: "validate a recipe, train and evaluate it, write a run directory",
  usage: "RECIPE [options]",
  description:
    "Validates RECIPE, compiles its network, trains, evaluates and writes a run directory. Pretrained files the recipe names " +
    "(the paper recipes: ImageNet ResNet-50 and GloVe under weights/; the CLIP recipes: CLIP's weights and BPE merges; docs/weights.md) " +
    "are checked before anything is written; --set encoders.image.weights=null (or encoders.text.glove=null) trains that encoder from scratch.",
  options: {
    out: { type: "string", arg: "DIR", help: "run directory (default runs/<name>-<timestamp>)" },
    resume: { type: "string", arg: "RUN_DIR", help: "continue RUN_DIR from its last checkpoint (same recipe and --set options)" },
    set: { ...SET_OPTION, help: "override a recipe value, e.g. --set training.epochs=2 (repeatable)" },
    plugin: { ...PLUGIN_OPTION, help: "load a plugin that registers modules, routers, losses, ... (repeatable)" },
    backend: BACKEND_OPTION,
    log: { type: "string", arg: "MODE", help: "auto | plain | json (default auto: the dashboard on a terminal)" },
    "dry-run": { type: "boolean", help: "validate and print the network summary; train nothing, write nothing" },
    nproc: { type: "string", arg: "N", help: "train with N processes on this machine (data-parallel over c10d; docs/distributed.md)" },
    "no-plugins": NO_PLUGINS_OPTION,
    "allow-outside-root": ALLOW_OUTSIDE_ROOT_OPTION,
  },
  notes: "Runs plugin code (also with --dry-run): the recipe's plugins are imported once it validates without them (--no-plugins runs none).",
  examples: [
    "sdfn build recipes/quickstart.yaml --set fusion.router.type=static",
    "sdfn build recipes/sdfn-fashioniq.yaml --set encoders.image.weights=null   # a randomly initialised ResNet-50, on purpose",
  ],
  async run({ values, positionals }) {
    if (positionals.length > 1) throw new UsageError(`expected one RECIPE, got ${positionals.length}: ${positionals.join(" ")}`);
    const resume = values.resume;
    const previous = resume ? new RunDir(resume) : null;
    const file = positionals[0] ?? (resume ? join(resume, RUN_FILES.recipe) : undefined);
    if (!file) throw new UsageError("build: missing RECIPE (see sdfn build --help)");
    if (previous && !existsSync(previous.path)) throw new UsageError(`--resume ${previous.path}: no such directory; a new run goes to --out DIR`);
    if (!existsSync(file)) {
      throw new UsageError(
        positionals[0] || !previous
          ? `${file}: no such recipe file`
          : `--resume ${previous.path}: no ${RUN_FILES.recipe} there (not a run directory, or its run stopped before writing it); give the recipe: sdfn build RECIPE --resume ${previous.path}`,
      );
    }
    const log = values.log ?? "auto";
    if (!(LOG_MODES as readonly string[]).includes(log)) throw new UsageError(`--log ${log}: expected auto, plain or json`);

    const { loadRecipe, RecipeError } = await import("../../recipe/index.js");
    const { plugins, noPlugins } = pluginFlags(values);
    const allowOutsideRoot = values["allow-outside-root"] ?? false;
    const loaded = await loadRecipe(file, { sets: values.set ?? [], plugins, noPlugins, allowOutsideRoot });
    // Too large for this machine (or training.max_memory): refused before anything allocates.
    const tooLarge = await (await import("../memory-check.js")).memoryProblem(loaded);
    if (tooLarge) throw new RecipeError([tooLarge]);
    const { useBackend, backendNames } = await import("../../backend/index.js");
    const backendName = values.backend ?? loaded.recipe.backend;
    if (!(backendNames as readonly string[]).includes(backendName)) {
      throw new UsageError(`--backend ${backendName}: expected one of ${backendNames.join(", ")}`);
    }
    // --nproc N: this process only launches the N workers (src/dist/launch.ts); each of them runs this command.
    const dist = await import("../dist-build.js");
    const nproc = dist.parseNproc(values.nproc);
    const rank = dist.jobRank();
    // Before anything starts: a run this job may not continue (another recipe, another process count) is refused
    // (its checkpoint verified; a corrupt last falls back to last.prev; one without a checkpoint starts afresh, train says so).
    if (previous) (await import("../../run/resume.js")).resumableMeta(previous.path, { recipeHash: loaded.hash, world: dist.jobWorld(nproc) });
    if (nproc > 1 && rank === null && !values["dry-run"]) {
      const out = resume ?? values.out ?? defaultRunDir(loaded.recipe.name);
      const args = dist.workerArgs({ file, sets: values.set ?? [], plugins, noPlugins, allowOutsideRoot, backend: values.backend, log, out, resume });
      return dist.launchJob(nproc, backendName, args, out);
    }
    if (rank !== null) dist.pinDevice();
    // Not available here (the torch addon not built, say): the user's to change (exit 2).
    const backend = await useBackend(backendName).catch((err: Error) => {
      throw new UsageError(`backend "${backendName}": ${err.message}`);
    });
    if (values["dry-run"]) return dryRun(loaded);

    const { createRenderer } = await import("../render/index.js");
    const { train } = await import("../../run/train.js");
    const outDir = values.out ?? defaultRunDir(loaded.recipe.name);
    const runDir = resume ?? outDir;
    const again = [`${sdfnHere()} build`, relative(process.cwd(), file) || file];
    for (const s of values.set ?? []) again.push(`--set ${JSON.stringify(s)}`);
    for (const p of plugins) again.push(`--plugin ${p}`);
    if (noPlugins) again.push("--no-plugins");
    if (allowOutsideRoot) again.push("--allow-outside-root");
    if (values.backend) again.push(`--backend ${values.backend}`);
    if (nproc > 1) again.push(`--nproc ${nproc}`);
    again.push(`--resume ${resolve(runDir)}`);

    const renderer = createRenderer({ mode: log as (typeof LOG_MODES)[number] });
    const rankLog = rank === null ? null : await dist.rankSink(renderer.sink, runDir, rank);
    try {
      const summary = await train(loaded, {
        outDir,
        resume,
        backend: backend.name,
        device: backend.device,
        onEvent: rankLog?.sink ?? renderer.sink,
        signal: renderer.signal,
        resumeCommand: again.join(" "),
      });
      await renderer.close();
      await rankLog?.close();
      if (rank !== null && rank > 0) return summary.status === "non-finite-loss" ? 1 : 0; // rank 0 writes the report
      const { writeReport } = await import("../../report/index.js");
      const report = await writeReport(summary.run_dir);
      if (renderer.mode !== "json") process.stdout.write(`report: ${report}\n`); // absolute, like every path sdfn prints
      // q or a first Ctrl-C stops cleanly with a checkpoint: 0 (a second Ctrl-C exits 130 in the renderer); SIGTERM: 143.
      if (renderer.terminated) return 143;
      return summary.status === "completed" || summary.status === "interrupted" ? 0 : 1;
    } catch (err) {
      await renderer.close(); // then main reports it: a DataError (bad input, nothing trained) exits 2
      throw err;
    }
  },
});

/** How to run sdfn again where the hint is printed: `npx sdfn` inside a project that has it (or this checkout), else `sdfn` from PATH. */
function sdfnHere(): string {
  const cwd = process.cwd();
  const checkout = resolve(import.meta.dirname, "../../..");
  const inCheckout = !relative(checkout, cwd).startsWith("..");
  return inCheckout || existsSync(join(cwd, "node_modules", ".bin", "sdfn")) ? "npx sdfn" : "sdfn";
}

/** Compiles the network and prints its summary; writes nothing. */
async function dryRun(loaded: import("../../recipe/index.js").LoadedRecipe): Promise<number> {
  const [{ openDataset }, { compileNetwork }, { summarizeNetwork }, { pretrainedFiles }] = await Promise.all([
    import("../../data/index.js"),
    import("../../graph/compile.js"),
    import("../../graph/summary.js"),
    import("../../run/pretrained.js"),
  ]);
  // The graph is printed even when the data is not there yet (e.g. the paper recipes before
  // a download): the vocabulary then is a placeholder and text.embedding is counted for it.
  // Pretrained files are listed, not read (a GloVe file is gigabytes).
  const dataset = await openDataset(loaded.recipe, loaded.registry, { allowOutsideRoot: loaded.allowOutsideRoot }).catch((err: Error) => err);
  const vocabulary = dataset instanceof Error ? { size: 1, words: ["<pad>"] } : dataset.vocabulary;
  const net = compileNetwork(loaded.recipe, loaded.registry, { vocabulary, filesDir: process.cwd(), pretrained: false });
  const files = pretrainedFiles(loaded)
    .map((f) => `pretrained: ${f.key} = ${f.file} (${f.found ? `${f.bytes} bytes` : `missing: build stops here; ${f.obtain}`})\n`)
    .join("");
  try {
    const t = loaded.recipe.training;
    process.stdout.write(`${summarizeNetwork(net)}\n`);
    process.stdout.write(
      (dataset instanceof Error
        ? `data: not available (${dataset.message.split("\n")[0]}); text.embedding counted for a 1-word vocabulary\n`
        : `data: ${dataset.train.length} training pairs, ${dataset.evalSets.map((s) => `${s.name} ${s.queries.length} queries / ${s.gallery.length} images`).join(", ")}; vocabulary ${dataset.vocabulary.size}\n`) +
        (files || "pretrained: none (every encoder starts from random weights)\n") +
        `training: ${t.epochs} epochs × batch ${t.batch_size}, ${t.optimizer.type}, schedule ${t.schedule.type}; losses ${loaded.recipe.losses.map((l) => `${l.type}×${String(l.weight)}`).join(" + ")}\n` +
        `recipe valid (hash ${loaded.hash.slice(0, 12)}); --dry-run: nothing trained or written\n`,
    );
  } finally {
    net.dispose();
  }
  return 0;
}
