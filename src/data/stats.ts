// Dataset statistics for `sdfn data`: per split and category the pairs, queries,
// gallery size, images, missing images and out-of-vocabulary words, and what
// data.missing_images: skip keeps and drops.
import type { MissingImagesRecord } from "./missing-images.js";
import type { DatasetSource, Vocabulary } from "./types.js";
import { countUnknown } from "./vocabulary.js";

export interface SplitStatistics {
  pairs?: number;
  queries?: number;
  gallery?: number;
  images: number;
  missing_images: number;
  tokens: number;
  unknown_tokens: number;
}

export interface DataStatistics {
  dataset: string;
  root?: string;
  vocabulary: { size: number; min_count: number };
  train: SplitStatistics & { categories?: Record<string, SplitStatistics> };
  eval: Record<string, SplitStatistics>;
  /**
   * The missing images; when some are missing or data.missing_images is skip, also the policy and per
   * split and category the pairs, queries and gallery images that skip keeps and drops (under `error`,
   * what it would; the splits above are then the whole annotation files, under `skip` what is kept).
   */
  missing_images: { count: number; first: string[] } & Partial<Omit<MissingImagesRecord, "missing" | "fingerprint">>;
  /** What the dataset reports about its evaluation protocol (docs/datasets.md). */
  protocol?: Record<string, number>;
}

function split(source: DatasetSource, vocabulary: Vocabulary, images: Iterable<string>, texts: string[]): SplitStatistics {
  const ids = new Set(images);
  const missing = [...ids].filter((id) => source.missingIds?.has(id)).length;
  const { tokens, unknown } = countUnknown(vocabulary, texts);
  return { images: ids.size, missing_images: missing, tokens, unknown_tokens: unknown };
}

/** Statistics of an opened dataset source under `vocabulary`. */
export function datasetStatistics(
  dataset: string,
  source: DatasetSource,
  vocabulary: Vocabulary,
  minCount: number,
  missingImages?: MissingImagesRecord,
): DataStatistics {
  const trainOf = (pairs: typeof source.train) => ({
    pairs: pairs.length,
    ...split(
      source,
      vocabulary,
      pairs.flatMap((p) => [p.reference, p.target]),
      pairs.map((p) => p.text),
    ),
  });
  const categories = [...new Set(source.train.flatMap((p) => (p.category ? [p.category] : [])))];
  const evalSplits = Object.fromEntries(
    source.evalSets.map((set) => [
      set.name,
      {
        queries: set.queries.length,
        gallery: set.gallery.length,
        ...split(
          source,
          vocabulary,
          [...set.gallery, ...set.queries.map((q) => q.reference)],
          set.queries.map((q) => q.text),
        ),
      },
    ]),
  );
  return {
    dataset,
    ...(source.root ? { root: source.root } : {}),
    vocabulary: { size: vocabulary.size, min_count: minCount },
    train: {
      ...trainOf(source.train),
      ...(categories.length > 0
        ? { categories: Object.fromEntries(categories.map((c) => [c, trainOf(source.train.filter((p) => p.category === c))])) }
        : {}),
    },
    eval: evalSplits,
    missing_images: { count: source.missing.length, first: source.missing.slice(0, 5), ...dropped(missingImages) },
    ...(source.protocolCounts ? { protocol: source.protocolCounts } : {}),
  };
}

/** The record's policy and counts, when there is something to say: images missing, or skip asked for (the count is said above, the fingerprint is for resumes). */
function dropped(r: MissingImagesRecord | undefined) {
  if (!r || (r.missing === 0 && r.policy === "error")) return {};
  const { missing: _count, fingerprint: _fingerprint, ...counts } = r;
  return counts;
}
