// The library API for using a trained run from code (plain Node imports it; examples/retrieve.mjs):
//   const run = await openRun("runs/fiq-…");                       // the run's encoders, on its backend
//   const index = openIndex("photos.index", run);                  // refuses another run's index
//   const q = await embedQueries(run, [{ image: "ref.jpg", text: "is red" }]);
//   const [hits] = await search(index, q, { k: 10 });              // [{ row, id, score }, …]
// (search: src/catalogue/search.ts). Each function is the method of the object it takes.
import type { EmbedOptions, Embeddings, ImageInput, Query, QueryEmbeddings, RunModel } from "./model.js";

/** Target embeddings of images (file paths or encoded JPEG/PNG/WebP bytes): (count, dim), L2-normalised. */
export function embedImages(run: RunModel, images: readonly ImageInput[], o?: EmbedOptions): Promise<Embeddings> {
  return run.embedImages(images, o);
}

/** Query embeddings of (reference image, text) pairs, L2-normalised, with each query's routing path. */
export function embedQueries(run: RunModel, queries: readonly Query[], o?: EmbedOptions): Promise<QueryEmbeddings> {
  return run.embedQueries(queries, o);
}
