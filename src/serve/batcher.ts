// Concurrent queries through one encoder pass: a query waits in a queue; when the encoder is free,
// every waiting query (up to maxBatch) goes through it together — their references as one
// (B, S, S, 3) batch, their texts padded to the longest — and then through one search of the
// index. A quiet server answers a lone query at once; under load (a pass ended less than QUIET_MS
// ago) the next pass waits `waitMs` for more queries to arrive, since requests are read and
// decoded one by one between passes. maxBatch 1 is the unbatched server (bench/serve.ts compares).
import * as tf from "@tensorflow/tfjs";
import type { CatalogueIndex, Hit } from "../catalogue/search.js";
import type { RunModel, Tokenized } from "../infer/model.js";

/** One decoded query waiting for the encoder. */
export interface PendingQuery {
  /** (S, S, 3) normalised pixels of the reference. */
  pixels: Float32Array;
  text: Tokenized;
  k: number;
  /** Catalogue rows to leave out (the reference item). */
  exclude: number[];
}

export interface Answer {
  hits: Hit[];
  /** Per fusion layer, (M, R): the query's routing distributions. */
  path: number[][][];
  /** Queries that shared its encoder pass. */
  batch: number;
  encodeMs: number;
  searchMs: number;
}

/** A server whose last pass ended longer ago than this is quiet: a new query starts a pass at once. */
const QUIET_MS = 20;

interface Waiting {
  query: PendingQuery;
  resolve(answer: Answer): void;
  reject(err: unknown): void;
}

export class QueryBatcher {
  private readonly queue: Waiting[] = [];
  private running = false;
  private lastPassEnd = -Infinity;
  /** Encoder passes run, and queries answered (their ratio is the mean batch). */
  passes = 0;
  answered = 0;

  constructor(
    private readonly model: RunModel,
    private readonly index: CatalogueIndex,
    readonly maxBatch = 32,
    /** Search the index's approximate (HNSW) graph instead of exactly. */
    private readonly approximate = false,
    /** Under load, how long a pass waits for more queries (milliseconds). */
    readonly waitMs = 2,
  ) {}

  /** The query's top K and routing path, once its batch has been through the encoder and the index. */
  submit(query: PendingQuery): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.queue.push({ query, resolve, reject });
      if (!this.running) {
        this.running = true;
        const quiet = performance.now() - this.lastPassEnd > QUIET_MS || this.maxBatch === 1;
        if (quiet) setImmediate(() => void this.drain());
        else setTimeout(() => void this.drain(), this.waitMs);
      }
    });
  }

  /** Queries waiting or in the encoder. */
  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const answers = await this.run(batch.map((w) => w.query));
        batch.forEach((w, i) => w.resolve(answers[i]!));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
      this.lastPassEnd = performance.now();
      // requests read while the pass ran are still being decoded: give them the wait to join the next one
      if (!this.queue.length && this.maxBatch > 1) await new Promise((resolve) => setTimeout(resolve, this.waitMs));
    }
    this.running = false;
  }

  private async run(queries: PendingQuery[]): Promise<Answer[]> {
    const s = this.model.imageOptions.image_size;
    const pixels = new Float32Array(queries.length * s * s * 3);
    queries.forEach((q, i) => pixels.set(q.pixels, i * s * s * 3));
    const start = performance.now();
    const references = tf.tensor4d(pixels, [queries.length, s, s, 3]);
    let encoded;
    try {
      encoded = await this.model.encodeQueries(references, queries.map((q) => q.text));
    } finally {
      references.dispose();
    }
    const encodeMs = performance.now() - start;
    const hits = await this.index.search(
      { count: queries.length, dim: this.model.dim, data: encoded.data },
      { k: queries.map((q) => q.k), exclude: queries.map((q) => q.exclude), approximate: this.approximate },
    );
    const searchMs = performance.now() - start - encodeMs;
    this.passes++;
    this.answered += queries.length;
    return queries.map((_, i) => ({ hits: hits[i]!, path: encoded.paths[i]!, batch: queries.length, encodeMs, searchMs }));
  }
}
