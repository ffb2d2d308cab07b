// `sdfn index`: a catalogue index from a run's target encoder (a folder or list of images, or a
// split of the run's dataset), extended with --add; --check verifies one and measures its
// approximate search against exact; --export writes its vectors and ids for a distributed engine.
import { resolve } from "node:path";
import { BACKEND_OPTION, defineCommand, UsageError } from "../command.js";
import { RUN_OPTIONS } from "./open-run.js";

export const command = defineCommand({
  name: "index",
  summary: "embed a catalogue of images into an index for sdfn serve and search",
  usage: [
    "RUN_DIR --images DIR|LIST --out INDEX [--add] [--approx] [options]",
    "RUN_DIR --dataset SPLIT --out INDEX [--add] [--approx] [options]",
    "--check INDEX [-k K] [--sample N]",
    "--export INDEX --out DIR",
  ],
  description:
    "Embeds every image of a catalogue with the run's target encoder (in batches, with progress and ETA) and writes an index\n" +
    "directory: L2-normalised embeddings (embeddings.npy), ids and source paths (items.jsonl), small thumbnails, the run's recipe\n" +
    "hash and checkpoint digest (index.json), and a manifest of SHA-256s. It is written whole, to a temporary directory renamed\n" +
    "over INDEX, so a failure leaves the old index as it was. --images takes a folder (every .jpg .jpeg .png .webp under it,\n" +
    "ids = paths relative to it) or a list file (one image path per line, relative to the list). --add embeds only the ids the\n" +
    "index lacks. Search is exact by default (one matrix product); --approx also builds an HNSW graph (usearch) for catalogues\n" +
    "past a few million items, and --check reports its recall@K against exact search. An index embedded by another run, or a\n" +
    "damaged one, is refused naming the file.",
  options: {
    images: { type: "string", arg: "DIR|LIST", help: "a folder of images (recursively) or a list file of image paths" },
    dataset: { type: "string", arg: "SPLIT", help: "index the run's dataset instead: an evaluation set's name, eval (every gallery) or train" },
    out: { type: "string", arg: "INDEX", help: "the index directory to write (with --export: the export directory)" },
    add: { type: "boolean", help: "embed only the images INDEX does not have yet (INDEX must be this run's)" },
    approx: { type: "boolean", help: "also build the approximate (HNSW) index; an index that has one keeps it on --add" },
    expansion: { type: "string", arg: "N", help: "--approx: candidates the HNSW search keeps (default 128; more: higher recall, slower; --check measures it)" },
    check: { type: "string", arg: "INDEX", help: "verify INDEX and measure its approximate search's recall@K against exact search" },
    export: { type: "string", arg: "INDEX", help: "write INDEX's vectors and ids as NumPy files for Milvus or FAISS (--out DIR)" },
    top: { type: "string", short: "k", arg: "K", help: "--check: recall@K (default 10)" },
    sample: { type: "string", arg: "N", help: "--check: how many catalogue items to use as queries (default 1000)" },
    "batch-size": { type: "string", arg: "N", help: "images per encoder pass (default: the recipe's evaluation.batch_size)" },
    "thumbnail-size": { type: "string", arg: "PX", help: "side of the thumbnails kept in the index (default 96)" },
    checkpoint: RUN_OPTIONS.checkpoint,
    recipe: { ...RUN_OPTIONS.recipe, help: "load this recipe instead of RUN_DIR/recipe.resolved.yaml (a run whose plugins live beside its recipe)" },
    backend: { ...BACKEND_OPTION, help: "tfjs backend (default: the recipe's)" },
    json: { type: "boolean", help: "print the result as JSON" },
    "no-plugins": RUN_OPTIONS["no-plugins"],
    "allow-outside-root": RUN_OPTIONS["allow-outside-root"],
  },
  notes:
    "Runs plugin code: the run's plugins are imported once its recipe validates (--no-plugins runs none); --check and --export run none.\n" +
    "Moving to a distributed engine: docs/serving.md.",
  examples: [
    "sdfn index runs/quickstart-20260101-120000 --dataset shapes --out catalogue",
    "sdfn index runs/fiq-20260101-120000 --images photos/ --out photos.index --approx",
    "sdfn index runs/fiq-20260101-120000 --images photos/ --out photos.index --add",
    "sdfn index --check photos.index -k 10",
    "sdfn index --export photos.index --out photos.milvus",
  ],
  async run({ values, positionals }) {
    if (values.check) return check(values.check, positionals, values);
    if (values.export) return exportTo(values.export, positionals, values.out);
    if (positionals.length !== 1) throw new UsageError(`index: expected one RUN_DIR, got ${positionals.length} (see sdfn index --help)`);
    if (Boolean(values.images) === Boolean(values.dataset)) throw new UsageError("index: give one of --images DIR|LIST and --dataset SPLIT");
    if (!values.out) throw new UsageError("index: --out INDEX is required");
    const batchSize = positiveInt("--batch-size", values["batch-size"]);
    const thumbnailSize = positiveInt("--thumbnail-size", values["thumbnail-size"]);
    const tag = values.checkpoint;
    if (tag !== undefined && tag !== "best" && tag !== "last") throw new UsageError(`--checkpoint ${tag}: expected best or last`);
    const { openRun } = await import("../../infer/model.js");
    const { buildIndex, datasetCatalogue, imageCatalogue } = await import("../../catalogue/build.js");
    const { APPROX_DEFAULTS } = await import("../../catalogue/approx.js");
    const model = await openRun(positionals[0]!, { checkpoint: tag, backend: values.backend, noPlugins: values["no-plugins"], recipe: values.recipe, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
    try {
      const catalogue = values.images ? imageCatalogue(model, values.images) : await datasetCatalogue(model, values.dataset!, { allowOutsideRoot: values["allow-outside-root"] });
      if (catalogue.skipped.length) {
        process.stderr.write(`note: left out ${catalogue.skipped.length} file(s) that are not images by name (${catalogue.skipped.slice(0, 3).join(", ")}${catalogue.skipped.length > 3 ? ", …" : ""})\n`);
      }
      const progress = progressLine();
      const result = await buildIndex(model, catalogue, {
        out: values.out,
        add: values.add,
        approx: values.approx ? { ...APPROX_DEFAULTS, expansion_search: positiveInt("--expansion", values.expansion) ?? APPROX_DEFAULTS.expansion_search } : undefined,
        batchSize,
        thumbnailSize,
        onProgress: progress.update,
      });
      progress.end();
      const where = resolve(values.out);
      if (values.json) process.stdout.write(`${JSON.stringify({ index: where, count: result.meta.count, added: result.added, kept: result.kept, dim: result.meta.dim, approx: result.meta.approx !== null }, null, 2)}\n`);
      else if (result.added === 0) process.stdout.write(`${where}: nothing new to add (${result.kept} items already indexed); unchanged\n`);
      else process.stdout.write(`${where}: ${result.meta.count} items (${result.added} embedded${result.kept ? `, ${result.kept} kept` : ""}), dimension ${result.meta.dim}${result.meta.approx ? ", with an approximate index" : ""}\n`);
      return 0;
    } finally {
      model.close();
    }
  },
});

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} ${value}: expected a positive integer`);
  return n;
}

/** A progress bar with rate and ETA on stderr: redrawn in place on a terminal, a line per tenth otherwise. */
function progressLine() {
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  let drawn = false;
  return {
    update: ({ done, total, seconds }: { done: number; total: number; seconds: number }) => {
      const rate = done / Math.max(seconds, 1e-9);
      const eta = (total - done) / Math.max(rate, 1e-9);
      const width = 24;
      const filled = Math.round((width * done) / total);
      const line = `embedding [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} ${Math.floor((100 * done) / total)}% · ${rate.toFixed(1)} images/s · ETA ${Math.round(eta)}s`;
      if (tty) {
        process.stderr.write(`\r${line}`);
        drawn = true;
      } else if (Math.floor((10 * done) / total) > lastTenth) {
        lastTenth = Math.floor((10 * done) / total);
        process.stderr.write(`${line}\n`);
      }
    },
    end: () => {
      if (drawn) process.stderr.write("\n");
    },
  };
}

async function check(dir: string, positionals: string[], values: { top?: string; sample?: string; json?: boolean; backend?: string }): Promise<number> {
  if (positionals.length) throw new UsageError(`index --check: takes the index as its value, not ${positionals.join(" ")} (sdfn index --check INDEX)`);
  const k = positiveInt("-k", values.top) ?? 10;
  const sample = positiveInt("--sample", values.sample) ?? 1000;
  const { openIndex } = await import("../../catalogue/search.js");
  const { checkIndex } = await import("../../catalogue/check.js");
  await backend(values.backend ?? "auto");
  const index = openIndex(dir); // verified: every file's SHA-256
  try {
    if (index.count < 2) throw new UsageError(`--check ${dir}: the index has ${index.count} item(s); a check needs at least 2`);
    const r = await checkIndex(index, { k, sample });
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ index: index.dir, count: index.count, verified: true, queries: r.queries, k: r.k, recall: r.recall, exact_ms: r.exactMs, approx_ms: r.approxMs }, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`${index.dir}: ${index.count} items of dimension ${index.meta.dim}, every file verified (run ${index.meta.run.run}, ${index.meta.run.checkpoint})\n`);
    process.stdout.write(`exact search: ${r.exactMs.toFixed(2)} ms per query (${r.queries} queries, top ${r.k})\n`);
    if (r.recall === null) process.stdout.write("approximate index: none (build one with --approx)\n");
    else process.stdout.write(`approximate search: ${r.approxMs!.toFixed(2)} ms per query, recall@${r.k} ${(100 * r.recall).toFixed(1)}% of exact search's top ${r.k}\n`);
    return 0;
  } finally {
    index.close();
  }
}

async function exportTo(dir: string, positionals: string[], out: string | undefined): Promise<number> {
  if (positionals.length) throw new UsageError(`index --export: takes the index as its value, not ${positionals.join(" ")} (sdfn index --export INDEX --out DIR)`);
  if (!out) throw new UsageError("index --export: --out DIR is required");
  const { openIndex } = await import("../../catalogue/search.js");
  const { exportIndex } = await import("../../catalogue/export.js");
  const index = openIndex(dir);
  try {
    const files = await exportIndex(index, out);
    process.stdout.write(`${resolve(out)}: ${index.count} vectors of dimension ${index.meta.dim} (${files.map((f) => f.split("/").pop()).join(", ")})\n`);
    return 0;
  } finally {
    index.close();
  }
}

/** Exact search runs on a tfjs backend (the product and the top K). */
async function backend(name: string): Promise<void> {
  const { useBackend } = await import("../../backend/index.js");
  await useBackend(name).catch((err: Error) => {
    throw new UsageError(`backend "${name}": ${err.message}`);
  });
}
