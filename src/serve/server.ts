// `sdfn serve`: the app (app.ts) on a Node HTTP server (@hono/node-server). A port in use is a
// user error naming it; stop() — SIGTERM in the CLI — drains: new requests get 503, the ones in
// flight finish, idle connections close, then the server and the model are released.
import type { AddressInfo } from "node:net";
import { serve as listen, type ServerType } from "@hono/node-server";
import type { CatalogueIndex } from "../catalogue/search.js";
import { openDataset } from "../data/index.js";
import type { RunModel } from "../infer/model.js";
import { UserError } from "../util/errors.js";
import { createApp } from "./app.js";
import { QueryBatcher } from "./batcher.js";

export interface ServeOptions {
  model: RunModel;
  index: CatalogueIndex;
  /** 0: any free port. */
  port: number;
  host: string;
  /** Queries per encoder pass (1: unbatched). */
  maxBatch: number;
  /** Under load, how long a pass waits for more queries (milliseconds; default 2). */
  batchWaitMs?: number;
  maxUploadBytes: number;
  /** Search the approximate index. */
  approximate: boolean;
  /** The user's --allow-outside-root (an index of a dataset split opens the dataset for item pixels). */
  allowOutsideRoot?: boolean;
}

export interface RunningServer {
  /** http://HOST:PORT */
  url: string;
  port: number;
  batcher: QueryBatcher;
  /** Drains and closes: resolves when every request in flight has been answered. */
  stop(): Promise<void>;
}

/** How a catalogue row becomes the query encoder's reference pixels: its file, or (an index of a dataset split) the dataset's image. */
async function itemPixelsOf(o: ServeOptions): Promise<(row: number) => Promise<Float32Array>> {
  const { model, index } = o;
  if (!("dataset" in index.meta.source)) return (row) => model.decodePixels(index.items[row]!.path!, "item");
  const { recipe, registry } = model.loaded;
  const dataset = await openDataset(recipe, registry, { vocabulary: model.vocabulary, allowOutsideRoot: o.allowOutsideRoot });
  return async (row) => {
    const t = await dataset.loader.images([index.items[row]!.id], { train: false });
    try {
      return (await t.data()) as Float32Array;
    } finally {
      t.dispose();
    }
  };
}

/** Starts the server; a port in use (or one this user may not open) is a UserError naming it. */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const batcher = new QueryBatcher(o.model, o.index, o.maxBatch, o.approximate, o.batchWaitMs);
  let draining = false;
  const app = createApp({ model: o.model, index: o.index, batcher, itemPixels: await itemPixelsOf(o), maxUploadBytes: o.maxUploadBytes, draining: () => draining });
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = listen({ fetch: app.fetch, port: o.port, hostname: o.host });
    s.once("listening", () => resolve(s));
    s.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") reject(new UserError(`--port ${o.port}: the port is in use on ${o.host} (another server listens there); give another with --port, or --port 0 for a free one`));
      else if (err.code === "EACCES") reject(new UserError(`--port ${o.port}: not allowed to listen there (ports below 1024 need privileges); give another with --port`));
      else if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") reject(new UserError(`--host ${o.host}: not an address of this machine`));
      else reject(err);
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}`,
    port,
    batcher,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        draining = true;
        // close() stops accepting, waits for requests in flight and (Node ≥ 19) closes idle keep-alive connections
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
