// `sdfn serve RUN_DIR --index INDEX`: the retrieval server (src/serve) and its web page, until
// SIGTERM or Ctrl-C, which drain the requests in flight and exit 0.
import { BACKEND_OPTION, defineCommand, UsageError } from "../command.js";
import { RUN_OPTIONS } from "./open-run.js";

export const command = defineCommand({
  name: "serve",
  summary: "serve queries against a catalogue index over HTTP, with a web page",
  usage: "RUN_DIR --index INDEX [--port N] [--host ADDR] [options]",
  description:
    "Serves composed queries against INDEX (built by sdfn index with the same run) on http://HOST:PORT:\n" +
    "  GET  /                 the web page: pick a catalogue item or drop a photo, type the change, see the top K and the routing path\n" +
    "  POST /query            JSON {item | image (base64), text, k} or multipart/form-data (image=@photo.jpg, text, k):\n" +
    "                         top K ids, scores and thumbnail URLs, and the query's routing path per fusion layer\n" +
    "  GET  /items?filter=&offset=&limit=    catalogue ids and thumbnails;  GET /items/ID  one item\n" +
    "  GET  /thumbnails/ROW   an item's thumbnail;  GET /health  run, index, batching and memory\n" +
    "Queries that arrive while the encoder is busy go through it together (up to --max-batch). Every bad request is a 4xx\n" +
    'JSON error naming its field: {"error": {"field": "text", "message": "…"}}. SIGTERM (or Ctrl-C) stops accepting,\n' +
    "answers the requests in flight and exits 0.",
  options: {
    index: { type: "string", arg: "INDEX", help: "the catalogue index (sdfn index RUN_DIR … --out INDEX)" },
    port: { type: "string", short: "p", arg: "N", help: "port to listen on (default 8080; 0 = any free port)" },
    host: { type: "string", arg: "ADDR", help: "address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 = every interface)" },
    "max-batch": { type: "string", arg: "N", help: "queries per encoder pass (default 32; 1 = no batching)" },
    "batch-wait": { type: "string", arg: "MS", help: "under load, how long an encoder pass waits for more queries (default 2)" },
    "max-upload": { type: "string", arg: "BYTES", help: "largest request (an uploaded image) in bytes (default 10000000)" },
    approx: { type: "boolean", help: "search the index's approximate (HNSW) graph instead of exactly (sdfn index --approx)" },
    checkpoint: RUN_OPTIONS.checkpoint,
    recipe: { ...RUN_OPTIONS.recipe, help: "load this recipe instead of RUN_DIR/recipe.resolved.yaml (a run whose plugins live beside its recipe)" },
    backend: { ...BACKEND_OPTION, help: "tfjs backend (default: the recipe's)" },
    "no-plugins": RUN_OPTIONS["no-plugins"],
    "allow-outside-root": RUN_OPTIONS["allow-outside-root"],
  },
  notes: "Runs plugin code: the run's plugins are imported once its recipe validates (--no-plugins runs none).",
  examples: [
    "sdfn serve runs/quickstart-20260101-120000 --index catalogue --port 8080",
    `curl -s localhost:8080/query -H 'content-type: application/json' -d '{"item": "test/0/0", "text": "make the red square blue", "k": 5}'`,
  ],
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError(`serve: expected one RUN_DIR, got ${positionals.length} (see sdfn serve --help)`);
    if (!values.index) throw new UsageError("serve: --index INDEX is required (build one with sdfn index RUN_DIR --images DIR --out INDEX)");
    const port = integer("--port", values.port ?? "8080", 0, 65535);
    const maxBatch = integer("--max-batch", values["max-batch"] ?? "32", 1, 4096);
    const batchWaitMs = integer("--batch-wait", values["batch-wait"] ?? "2", 0, 1000);
    const maxUploadBytes = integer("--max-upload", values["max-upload"] ?? "10000000", 1, 1 << 30);
    const tag = values.checkpoint;
    if (tag !== undefined && tag !== "best" && tag !== "last") throw new UsageError(`--checkpoint ${tag}: expected best or last`);
    const { openRun } = await import("../../infer/model.js");
    const { openIndex } = await import("../../catalogue/search.js");
    const { startServer } = await import("../../serve/server.js");
    const model = await openRun(positionals[0]!, { checkpoint: tag, backend: values.backend, noPlugins: values["no-plugins"], recipe: values.recipe, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
    let index;
    try {
      index = openIndex(values.index, model); // verified, and this run's
      const server = await startServer({
        model,
        index,
        port,
        host: values.host ?? "127.0.0.1",
        maxBatch,
        batchWaitMs,
        maxUploadBytes,
        approximate: values.approx ?? false,
        allowOutsideRoot: values["allow-outside-root"],
      });
      process.stdout.write(`serving ${index.count} catalogue items on ${server.url}/ (${model.backend}; SIGTERM or Ctrl-C stops)\n`);
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once("SIGTERM", () => resolve("SIGTERM"));
        process.once("SIGINT", () => resolve("SIGINT"));
      });
      process.stdout.write(`${signal}: finishing the requests in flight…\n`);
      await server.stop();
      process.stdout.write(`stopped (${server.batcher.answered} queries answered in ${server.batcher.passes} encoder passes)\n`);
      return 0;
    } finally {
      index?.close();
      model.close();
    }
  },
});

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} ${value}: expected an integer from ${min} to ${max}`);
  return n;
}
