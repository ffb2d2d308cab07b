// data.check_images: full — every image a run will read is decoded once before training,
// so a corrupt, truncated or empty file is found before hours of training reach it, and
// every such file is reported at once (by name, with what is wrong), not only the first.
import { limiter } from "./images.js";
import type { DatasetSource } from "./types.js";

/** How far a long preparation is (the dashboard and the plain log show it). */
export interface Progress {
  task: string;
  done: number;
  total: number;
}

/** One image that did not decode: its file (or id) and why. */
export interface BadImage {
  file: string;
  reason: string;
}

/** Every image id the run reads: training pairs, evaluation references and galleries, once each. */
export function imageIds(source: Pick<DatasetSource, "train" | "evalSets">): string[] {
  const ids = new Set<string>();
  for (const p of source.train) ids.add(p.reference).add(p.target);
  for (const set of source.evalSets) {
    for (const id of set.gallery) ids.add(id);
    for (const q of set.queries) ids.add(q.reference);
  }
  return [...ids];
}

/**
 * Decodes every image of `ids` (at most `concurrency` at once), reporting progress about
 * every 1 % (and at the end); resolves with the images that failed, in `ids` order.
 */
export async function decodeAll(
  ids: readonly string[],
  source: Pick<DatasetSource, "images">,
  concurrency: number,
  onProgress?: (p: Progress) => void,
): Promise<BadImage[]> {
  const task = "checking images";
  const total = ids.length;
  const every = Math.max(1, Math.floor(total / 100));
  const failed: (BadImage | undefined)[] = new Array(total);
  const run = limiter(concurrency);
  let done = 0;
  onProgress?.({ task, done, total });
  await Promise.all(
    ids.map((id, i) =>
      run(async () => {
        try {
          await source.images.load(id, undefined);
        } catch (err) {
          const file = source.images.path(id) ?? id;
          // ImageError messages start with the file; keep only what is wrong.
          const message = (err as Error).message;
          failed[i] = { file, reason: message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message };
        }
        done++;
        if (done % every === 0 || done === total) onProgress?.({ task, done, total });
      }),
    ),
  );
  return failed.filter((b): b is BadImage => b !== undefined);
}

/** The message for `bad` (every file, one per line), or undefined when there are none. */
export function badImagesMessage(dataset: string, bad: readonly BadImage[], checked: number): string | undefined {
  if (bad.length === 0) return undefined;
  const list = bad.map((b) => `\n  ${b.file}: ${b.reason}`).join("");
  return (
    `${dataset}: ${bad.length} of ${checked} images cannot be decoded (data.check_images: full):${list}\n` +
    `Replace or remove these files (re-download them, or drop the pairs that use them from the annotation files); nothing was trained or written.`
  );
}
