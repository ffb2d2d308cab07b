// The HTTP API of `sdfn serve` (hono): POST /query (a catalogue item or an uploaded image, a text,
// k → top K with scores and thumbnails, and the query's routing path), GET /items, /items/:id,
// /thumbnails/:row, /health, and the web page at /. Every bad request is a 4xx JSON error naming
// its field: { "error": { "field": "text", "message": "…" } }.
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { CatalogueIndex } from "../catalogue/search.js";
import { ImageError } from "../data/images.js";
import { InputError } from "../infer/inputs.js";
import type { RunModel } from "../infer/model.js";
import type { Answer, QueryBatcher } from "./batcher.js";
import { pageHtml } from "./page.js";

export interface AppOptions {
  model: RunModel;
  index: CatalogueIndex;
  batcher: QueryBatcher;
  /** (S, S, 3) normalised pixels of a catalogue row, as the model sees it (a file, or the dataset's image). */
  itemPixels: (row: number) => Promise<Float32Array>;
  /** Largest request body accepted (an upload), in bytes. */
  maxUploadBytes: number;
  /** True once SIGTERM arrived: new requests get 503 while the ones in flight finish. */
  draining: () => boolean;
}

/** A request problem: its HTTP status, the field it is about (null: the request as a whole) and what to do. */
class RequestProblem extends Error {
  constructor(
    readonly status: 400 | 404 | 413 | 415 | 503,
    readonly field: string | null,
    message: string,
  ) {
    super(message);
  }
}

const problem = (c: Context, status: RequestProblem["status"], field: string | null, message: string) => c.json({ error: { field, message } }, status);

/** The fields of a query request, from JSON or multipart form data. */
interface QueryFields {
  item?: unknown;
  image?: Uint8Array;
  text?: unknown;
  k?: unknown;
}

async function queryFields(c: Context): Promise<QueryFields> {
  const type = c.req.header("content-type") ?? "";
  if (type.startsWith("application/json")) {
    let body: Record<string, unknown>;
    try {
      body = (await c.req.json()) as Record<string, unknown>;
    } catch {
      throw new RequestProblem(400, "body", "is not valid JSON");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new RequestProblem(400, "body", "must be a JSON object: { item | image (base64), text, k }");
    if (body.image !== undefined && typeof body.image !== "string") throw new RequestProblem(400, "image", "must be the image file's bytes in base64");
    return { item: body.item, image: body.image === undefined ? undefined : Buffer.from(body.image as string, "base64"), text: body.text, k: body.k };
  }
  if (type.startsWith("multipart/form-data")) {
    const form = await c.req.parseBody();
    const image = form.image;
    if (image !== undefined && !(image instanceof File)) throw new RequestProblem(400, "image", "must be a file part (multipart/form-data: image=@photo.jpg)");
    const k = form.k === undefined || form.k === "" ? undefined : Number(form.k);
    return { item: form.item || undefined, image: image ? new Uint8Array(await image.arrayBuffer()) : undefined, text: form.text, k };
  }
  throw new RequestProblem(415, "body", `content type "${type || "none"}": send application/json or multipart/form-data`);
}

/** Builds the app over an opened model, index and batcher. */
export function createApp(o: AppOptions): Hono {
  const { model, index, batcher } = o;
  const app = new Hono();
  const thumbnailUrl = (row: number) => `/thumbnails/${row}`;

  app.use("*", async (c, next) => {
    if (o.draining()) {
      c.header("Connection", "close");
      return problem(c, 503, null, "the server is shutting down");
    }
    await next();
  });

  app.onError((err, c) => {
    if (err instanceof RequestProblem) return problem(c, err.status, err.field, err.message);
    if (err instanceof InputError) return problem(c, 400, err.field, err.problem);
    if (err instanceof ImageError) return problem(c, 400, "image", err.message.replace(/^image: /, ""));
    process.stderr.write(`error: ${c.req.method} ${c.req.path}: ${(err as Error).stack ?? String(err)}\n`);
    return problem(c, 500 as never, null, `internal error: ${(err as Error).message}`);
  });

  app.get("/", (c) => c.html(pageHtml({ title: `sdfn · ${model.loaded.recipe.name}`, count: index.count, layers: model.layers, maxWords: model.maxWords })));

  app.get("/health", (c) =>
    c.json({
      status: "ok",
      run: model.identity,
      backend: model.backend,
      index: { dir: index.dir, count: index.count, dim: index.meta.dim, approx: index.meta.approx !== null },
      batching: { max_batch: batcher.maxBatch, passes: batcher.passes, answered: batcher.answered, pending: batcher.pending },
      memory: { rss: process.memoryUsage().rss },
    }),
  );

  app.get("/items", (c) => {
    const offset = Math.max(0, Number(c.req.query("offset") ?? 0) || 0);
    const limit = Math.min(500, Math.max(1, Number(c.req.query("limit") ?? 60) || 60));
    const filter = (c.req.query("filter") ?? "").toLowerCase();
    const rows = filter ? index.items.flatMap((item, row) => (item.id.toLowerCase().includes(filter) ? [row] : [])) : null;
    const total = rows ? rows.length : index.count;
    const page = (rows ?? Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => offset + i)).slice(rows ? offset : 0, rows ? offset + limit : undefined);
    return c.json({ total, offset, items: page.map((row) => ({ row, id: index.items[row]!.id, thumbnail: thumbnailUrl(row) })) });
  });

  app.get("/items/:id{.+}", (c) => {
    const id = c.req.param("id");
    const row = index.row(id);
    if (row === undefined) return problem(c, 404, "id", `no catalogue item "${id}"`);
    const item = index.items[row]!;
    return c.json({ row, id: item.id, path: item.path, thumbnail: thumbnailUrl(row) });
  });

  app.get("/thumbnails/:row", (c) => {
    const row = Number(c.req.param("row"));
    if (!Number.isInteger(row) || row < 0 || row >= index.count) return problem(c, 404, "row", `no catalogue row ${c.req.param("row")} (0 to ${index.count - 1})`);
    const { bytes, type } = index.thumbnail(row);
    return c.body(new Uint8Array(bytes), 200, { "Content-Type": type, "Cache-Control": "public, max-age=86400" });
  });

  const limit = bodyLimit({
    maxSize: o.maxUploadBytes,
    onError: (c) => problem(c, 413, "image", `the request is larger than ${o.maxUploadBytes} bytes (sdfn serve --max-upload); send a smaller image`),
  });

  app.post("/query", limit, async (c) => {
    const fields = await queryFields(c);
    const start = performance.now();
    if (fields.item !== undefined && fields.image !== undefined) throw new RequestProblem(400, "item", "give a catalogue item or an uploaded image, not both");
    if (fields.item === undefined && fields.image === undefined) throw new RequestProblem(400, "image", "give a catalogue item (item) or an uploaded image (image)");
    if (typeof fields.text !== "string") throw new RequestProblem(400, "text", "is required: the modification, a string");
    const text = model.tokenize(fields.text, "text");
    let exclude: number[] = [];
    let pixels: Float32Array;
    if (fields.item !== undefined) {
      const row = typeof fields.item === "string" ? index.row(fields.item) : undefined;
      if (row === undefined) throw new RequestProblem(400, "item", `no catalogue item ${JSON.stringify(fields.item)} (GET /items lists them)`);
      pixels = await o.itemPixels(row);
      exclude = [row];
    } else {
      pixels = await model.decodePixels(fields.image!, "image");
    }
    const k = fields.k ?? Math.min(10, index.count - exclude.length);
    index.checkK(k, exclude.length);
    const decodeMs = performance.now() - start;
    const answer = await batcher.submit({ pixels, text, k: k as number, exclude });
    return c.json(answerJson(answer, { item: (fields.item as string | undefined) ?? null, text: fields.text, k: k as number }, decodeMs, thumbnailUrl, model.layers));
  });

  app.notFound((c) => problem(c, 404, "path", `no route ${c.req.method} ${c.req.path} (GET /, /health, /items, /items/:id, /thumbnails/:row; POST /query)`));
  return app;
}

function answerJson(a: Answer, query: { item: string | null; text: string; k: number }, decodeMs: number, thumbnailUrl: (row: number) => string, layers: string[][]) {
  return {
    query: { ...query, upload: query.item === null },
    results: a.hits.map((h, i) => ({ rank: i + 1, id: h.id, score: h.score, thumbnail: thumbnailUrl(h.row), item: `/items/${encodeURIComponent(h.id)}` })),
    // per layer: the senders' distributions over the next layer's modules (the last layer: the output weights)
    path: a.path.map((weights, l) => ({ layer: l + 1, modules: layers[l], receivers: l + 1 < layers.length ? layers[l + 1] : ["output"], weights })),
    batch: a.batch,
    timing_ms: { decode: decodeMs, encode: a.encodeMs, search: a.searchMs },
  };
}
