// sdfn as a library, from plain Node: open a trained run, open its catalogue index (built by
// `sdfn index`), embed a composed query — a reference photo and the change you want — search, and
// print the best catalogue items with their scores and the query's routing through the fusion layers.
//
//   node examples/retrieve.mjs RUN_DIR INDEX REFERENCE_IMAGE "TEXT" [K] [--json]
//
// In a project that installed sdfn (npm install sdfn), the import below is the same.
import { embedImages, embedQueries, openIndex, openRun, search } from "sdfn";

const args = process.argv.slice(2).filter((a) => a !== "--json");
const json = process.argv.includes("--json");
const [runDir, indexDir, image, text, k = "5"] = args;
if (text === undefined) {
  process.stderr.write('usage: node examples/retrieve.mjs RUN_DIR INDEX REFERENCE_IMAGE "TEXT" [K] [--json]\n');
  process.exit(2);
}

let run;
let index;
try {
  run = await openRun(runDir); // the run's encoders and preprocessing, on the backend its recipe names
  index = openIndex(indexDir, run); // refuses an index another run embedded
  const query = await embedQueries(run, [{ image, text }]); // L2-normalised q, and its routing path
  const [hits] = await search(index, query, { k: Number(k) }); // exact cosine search, best first
  const reference = await embedImages(run, [image]); // the photo as a catalogue item would be: t
  // how far the text moved the query from the reference photo itself (cosine of q and t)
  const moved = query.data.reduce((sum, v, i) => sum + v * reference.data[i], 0);
  const result = { text, image, reference_similarity: moved, top: hits, path: query.paths[0] };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    process.stdout.write(`top ${hits.length} of ${index.count} for "${text}" (reference ${image}; cos(q, t_reference) ${moved.toFixed(3)}):\n`);
    for (const [i, hit] of hits.entries()) process.stdout.write(`${String(i + 1).padStart(3)}  ${hit.score.toFixed(4)}  ${hit.id}\n`);
    const last = query.paths[0].at(-1);
    process.stdout.write(`output weights of the last fusion layer: ${run.layers.at(-1).map((m, i) => `${m} ${last[i][0].toFixed(2)}`).join(", ")}\n`);
  }
} catch (err) {
  // sdfn's errors for bad input (a missing file, a text too long, another run's index) have exitCode 2
  process.stderr.write(`error: ${err.message}\n`);
  process.exitCode = err.exitCode ?? 1;
} finally {
  index?.close();
  run?.close();
}
