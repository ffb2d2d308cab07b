// `sdfn serve`: POST /query gives the ranking computed here from the run's own network (a cosine
// over the index rows); an upload gives what the library gives for the same bytes; concurrent
// queries share encoder passes and get the answers they get alone; every bad request is a 4xx
// JSON error naming its field; a port in use is exit 2; SIGTERM answers the requests in flight
// and exits 0.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIndex, datasetCatalogue } from "../../src/catalogue/build.js";
import { openIndex, type CatalogueIndex } from "../../src/catalogue/search.js";
import { normalizeRows } from "../../src/eval/retrieval.js";
import { openRun, type RunModel } from "../../src/infer/model.js";
import { inference } from "../../src/nn/context.js";
import { openRun as openRunWithDataset } from "../../src/run/open-run.js";
import { startServer, type RunningServer } from "../../src/serve/server.js";
import { ROOT, sdfn, SDFN_BIN } from "../support/cli.js";
import { photo, trainTiny } from "../catalogue/helpers.js";

tf.env().set("IS_TEST", true);

const scratch = mkdtempSync(join(tmpdir(), "sdfn-serve-"));
const run = join(scratch, "run");
const indexDir = join(scratch, "shapes.index");
let model: RunModel;
let index: CatalogueIndex;
let server: RunningServer;

beforeAll(async () => {
  await trainTiny(run);
  model = await openRun(run);
  await buildIndex(model, await datasetCatalogue(model, "shapes"), { out: indexDir });
  index = openIndex(indexDir, model);
  // a long batching wait: on a loaded machine requests trickle in more than 2 ms apart
  server = await startServer({ model, index, port: 0, host: "127.0.0.1", maxBatch: 32, batchWaitMs: 100, maxUploadBytes: 20_000, approximate: false });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  index?.close();
  model?.close();
  rmSync(scratch, { recursive: true, force: true });
});

interface QueryJson {
  results: { rank: number; id: string; score: number; thumbnail: string }[];
  path: { layer: number; modules: string[]; receivers: string[]; weights: number[][] }[];
  batch: number;
}
const post = (body: unknown) => fetch(`${server.url}/query`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const form = (fields: Record<string, string | Blob>) => {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  return fetch(`${server.url}/query`, { method: "POST", body: f });
};

describe("POST /query", () => {
  it("a catalogue item: the top K by the cosine of the network's query embedding with every index row, itself left out", async () => {
    const res = await post({ item: "test/0/1/2", text: "make the red square blue", k: 5 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as QueryJson;
    // the reference: evaluation's own loader and network, and the cosine computed here
    const opened = await openRunWithDataset(run, "best");
    const reference = await opened.dataset.loader.images(["test/0/1/2"], { train: false });
    const { tokens, mask } = opened.dataset.loader.texts(["make the red square blue"]);
    const out = opened.net.encodeQuery({ reference, tokens, mask }, inference);
    const q = tf.tidy(() => normalizeRows(out.query));
    const qv = Array.from(await q.data());
    const paths = await Promise.all(out.paths.map((p) => p.array()));
    tf.dispose([reference, tokens, mask, q, out.query, out.tokens, out.lastInputs, ...out.paths]);
    opened.dispose();
    const self = index.row("test/0/1/2")!;
    const scores = index.items.map((_, row) => ({ row, s: Array.from(index.embedding(row)).reduce((a, v, j) => a + v * qv[j]!, 0) })).filter((x) => x.row !== self);
    scores.sort((a, b) => b.s - a.s);
    expect(body.results.map((r) => r.id)).toEqual(scores.slice(0, 5).map((x) => index.items[x.row]!.id));
    body.results.forEach((r, i) => expect(r.score).toBeCloseTo(scores[i]!.s, 5));
    expect(body.path.map((l) => [l.modules, l.receivers])).toEqual([
      [["JRM", "CAM", "GTM", "RCM"], ["JRM", "CAM", "GTM", "RCM"]],
      [["JRM", "CAM", "GTM", "RCM"], ["output"]],
    ]);
    body.path.forEach((l, i) => l.weights.forEach((row, m) => row.forEach((w, r) => expect(w).toBeCloseTo(paths[i]![0]![m]![r]!, 5))));
    const thumb = await fetch(`${server.url}${body.results[0]!.thumbnail}`);
    expect([thumb.status, thumb.headers.get("content-type")]).toEqual([200, "image/png"]);
  });

  it("an upload, as multipart or base64 JSON, gives what the library gives for the same bytes", async () => {
    const bytes = await photo(3);
    const viaForm = (await (await form({ image: new Blob([new Uint8Array(bytes)], { type: "image/png" }), text: "add a small green square", k: "4" })).json()) as QueryJson;
    const viaJson = (await (await post({ image: bytes.toString("base64"), text: "add a small green square", k: 4 })).json()) as QueryJson;
    const q = await model.embedQueries([{ image: bytes, text: "add a small green square" }]);
    const [hits] = await index.search(q, { k: 4 });
    expect(viaForm.results.map((r) => r.id)).toEqual(hits!.map((h) => h.id));
    expect(viaJson.results).toEqual(viaForm.results);
  });

  it("concurrent queries share encoder passes and get the answers they get alone", async () => {
    const queries = Array.from({ length: 12 }, (_, i) => ({ item: index.items[i]!.id, text: ["make the red square blue", "remove the triangle", "add a small green square"][i % 3]!, k: 3 }));
    const alone: QueryJson[] = [];
    for (const q of queries) alone.push((await (await post(q)).json()) as QueryJson);
    const together = (await Promise.all(queries.map(async (q) => (await post(q)).json()))) as QueryJson[];
    expect(Math.max(...together.map((r) => r.batch))).toBeGreaterThan(1);
    together.forEach((r, i) => {
      expect(r.results.map((x) => x.id)).toEqual(alone[i]!.results.map((x) => x.id));
      r.results.forEach((x, j) => expect(x.score).toBeCloseTo(alone[i]!.results[j]!.score, 5));
    });
  });
});

describe("bad requests are 4xx JSON errors naming the field", () => {
  const cases: [string, () => Promise<Response>, number, string | null, string][] = [
    ["no text", () => post({ item: "test/0/0/0", k: 3 }), 400, "text", "is required"],
    ["a text longer than the model reads", () => post({ item: "test/0/0/0", text: Array(40).fill("red").join(" ") }), 400, "text", "has 40 words; this model reads at most 32"],
    ["k = 0", () => post({ item: "test/0/0/0", text: "red", k: 0 }), 400, "k", "must be an integer from 1 to 15"],
    ["a PNG signature and nothing else", () => post({ image: "iVBORw0KGgo=", text: "red", k: 3 }), 400, "image", "cannot decode"],
    ["k beyond the catalogue (upload)", async () => post({ image: (await photo(1)).toString("base64"), text: "red", k: 17 }), 400, "k", "must be an integer from 1 to 16"],
    ["k not a number", () => post({ item: "test/0/0/0", text: "red", k: "ten" }), 400, "k", 'got "ten"'],
    ["an unknown item", () => post({ item: "nope", text: "red" }), 400, "item", 'no catalogue item "nope"'],
    ["neither item nor image", () => post({ text: "red" }), 400, "image", "give a catalogue item (item) or an uploaded image (image)"],
    ["both", () => post({ item: "test/0/0/0", image: "AAAA", text: "red" }), 400, "item", "not both"],
    ["an upload that is no image", () => form({ image: new Blob(["just text"]), text: "red" }), 400, "image", "is not a JPEG, PNG or WebP image"],
    ["an upload over the size limit", () => form({ image: new Blob([new Uint8Array(30_000)]), text: "red" }), 413, "image", "larger than 20000 bytes"],
    ["another content type", () => fetch(`${server.url}/query`, { method: "POST", body: "x", headers: { "content-type": "text/plain" } }), 415, "body", 'content type "text/plain"'],
    ["JSON that does not parse", () => fetch(`${server.url}/query`, { method: "POST", body: "{", headers: { "content-type": "application/json" } }), 400, "body", "is not valid JSON"],
    ["an unknown item id", () => fetch(`${server.url}/items/no/such`), 404, "id", 'no catalogue item "no/such"'],
    ["an unknown thumbnail", () => fetch(`${server.url}/thumbnails/99`), 404, "row", "no catalogue row 99"],
  ];
  it.each(cases)("%s", async (_, request, status, field, message) => {
    const res = await request();
    const body = (await res.json()) as { error: { field: string | null; message: string } };
    expect([res.status, body.error.field]).toEqual([status, field]);
    expect(body.error.message).toContain(message);
  });

  it("GET /items/:id and /health", async () => {
    expect(await (await fetch(`${server.url}/items/test/0/0/1`)).json()).toEqual({ row: 1, id: "test/0/0/1", path: null, thumbnail: "/thumbnails/1" });
    const health = (await (await fetch(`${server.url}/health`)).json()) as { status: string; index: { count: number }; run: unknown };
    expect(health).toMatchObject({ status: "ok", index: { count: 16 }, run: model.identity });
  });
});

describe("sdfn serve as a process", () => {
  it("a port in use is exit 2 naming it", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await sdfn("serve", run, "--index", indexDir, "--port", String(port));
      expect(r.code).toBe(2);
      expect(r.err).toContain(`--port ${port}: the port is in use on 127.0.0.1`);
    } finally {
      taken.close();
    }
    const other = await sdfn("serve", run, "--index", join(scratch, "none"), "--port", "0");
    expect([other.code, other.err]).toEqual([2, expect.stringContaining("not an sdfn index (no index.json)")]);
  });

  it("SIGTERM answers the queries in flight, then exits 0", async () => {
    const child = spawn(process.execPath, [SDFN_BIN, "serve", run, "--index", indexDir, "--port", "0", "--max-batch", "1"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d) => {
        out += d;
        const m = /on (http:\/\/[\d.]+:\d+)\//.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const inFlight = Array.from({ length: 16 }, (_, i) =>
      fetch(`${url}/query`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ item: `test/0/${i % 4}/0`, text: "remove the triangle", k: 2 }) }),
    );
    // wait until the server holds queries, then ask it to stop
    for (;;) {
      const h = (await (await fetch(`${url}/health`)).json()) as { batching: { pending: number; answered: number } };
      if (h.batching.pending > 0 || h.batching.answered > 0) break;
    }
    child.kill("SIGTERM");
    // answered (200), or refused once draining began: 503 on an open connection, or no new connection (0)
    const statuses = await Promise.all(inFlight.map((r) => r.then((res) => res.status, () => 0)));
    expect(await exited).toBe(0);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 503 || s === 0)).toBe(true);
    expect(out).toContain("SIGTERM: finishing the requests in flight…");
    expect(out).toMatch(new RegExp(`stopped \\(${statuses.filter((s) => s === 200).length} queries answered`));
  }, 60_000);
});
