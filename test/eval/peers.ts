// The peers' evaluation rules, re-implemented here from their published evaluation code (read, not
// copied), and a fixed similarity for any (reference, text) query against any image: sdfn's
// evaluation and each peer's rule rank the same scores, so their recalls must agree to the digit.
//   VAL      yanbeic/VAL: generate_caption_pairs.py, datasets/fashion_iq.py, generate_groundtruth.py, test_val.py
//   CoSMo    postBG/CosMo.pytorch: data/fashionIQ.py, evaluators/abc.py, evaluators/metric_calculators.py
//   ARTEMIS  naver/artemis: dataset_fashionIQ.py, dataset_shoes.py, prepare_data/prepare_shoes_data.py, evaluate.py
//   CLIP4Cir ABaldrati/CLIP4Cir: src/data_utils.py, src/validate.py
// Text preprocessing (VAL's "dotmark", ARTEMIS's nltk tokens, CLIP4Cir's capitalize) is each model's
// tokenizer: the similarity reads a text as sdfn's tokenizer does, so "C1 and c2." is "c1 and c2".
import * as tf from "@tensorflow/tfjs";
import { tokenize } from "../../src/data/vocabulary.js";
import type { RetrievalNetwork } from "../../src/eval/embed.js";

/** One entry of cap.<category>.val.json. */
export interface CaptionPair {
  candidate: string;
  target: string;
  captions: string[];
}

/** One entry of relative_captions_shoes.json. */
export interface ShoesCaption {
  ImageName: string;
  ReferenceImageName: string;
  RelativeCaption: string;
}

/** K → recall in percent. */
export type Recalls = Record<number, number>;

/** Seeded vectors for every image id and every text (by its words): q = image(reference) + text, scored by cosine. */
export class FixedSimilarity {
  private readonly vectors = new Map<string, Float32Array>();
  constructor(readonly dim: number) {}

  /** A seeded vector in [-1, 1)^dim per key (float32: what the tensors sdfn ranks hold). */
  private vector(key: string): Float32Array {
    let v = this.vectors.get(key);
    if (!v) {
      let state = fnv1a(key);
      v = new Float32Array(this.dim).map(() => {
        state = (state + 0x6d2b79f5) >>> 0; // mulberry32
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
      });
      this.vectors.set(key, v);
    }
    return v;
  }

  image = (id: string) => this.vector(`image ${id}`);
  text = (text: string) => this.vector(`text ${tokenize(text).join(" ")}`);

  /** The unit query vector of (reference, text), in float64. */
  query(reference: string, text: string): Float64Array {
    const [r, t] = [this.image(reference), this.text(text)];
    return unit(Float64Array.from(r, (x, i) => x + t[i]!));
  }

  /** Unit gallery vectors, one row each: (G·dim). */
  gallery(ids: readonly string[]): Float64Array {
    const out = new Float64Array(ids.length * this.dim);
    ids.forEach((id, j) => out.set(unit(Float64Array.from(this.image(id))), j * this.dim));
    return out;
  }

  /** Cosine of a unit query against every row of a unit gallery. */
  scores(q: Float64Array, gallery: Float64Array): Float64Array {
    const n = gallery.length / this.dim;
    const out = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < this.dim; k++) s += q[k]! * gallery[j * this.dim + k]!;
      out[j] = s;
    }
    return out;
  }

  /** A network and loader that give sdfn's evaluation these vectors: images (B, 1, 1, dim) → targets; reference + text → queries. */
  network(): { net: RetrievalNetwork; loader: { images(ids: readonly string[]): Promise<tf.Tensor4D>; texts(ts: readonly string[]): { tokens: tf.Tensor2D; mask: tf.Tensor2D } } } {
    const rows = (vs: Float32Array[]) => {
      const flat = new Float32Array(vs.length * this.dim);
      vs.forEach((v, i) => flat.set(v, i * this.dim));
      return flat;
    };
    return {
      loader: {
        images: async (ids) => tf.tensor4d(rows(ids.map(this.image)), [ids.length, 1, 1, this.dim]),
        // the text's vector rides in `tokens`: this network reads it as such
        texts: (ts) => ({ tokens: tf.tensor2d(rows(ts.map(this.text)), [ts.length, this.dim]), mask: tf.ones([ts.length, 1]) as tf.Tensor2D }),
      },
      net: {
        encodeTarget: (x) => x.reshape([x.shape[0], this.dim]),
        encodeQuery: ({ reference, tokens }) => ({ query: tf.add(reference.reshape([reference.shape[0], this.dim]), tokens) as tf.Tensor2D }),
      },
    };
  }
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function unit(v: Float64Array): Float64Array {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/**
 * Where index `i` lands when the indices are sorted by `key` ascending (argsort, then the position
 * of `i` in it), ties in index order (numpy and torch leave those to their sort): the entries before it.
 */
function positionInArgsort(key: Float64Array, i: number): number {
  let before = 0;
  for (let j = 0; j < key.length; j++) if (key[j]! < key[i]! || (key[j] === key[i] && j < i)) before++;
  return before;
}

/** The first `k` indices of argsort(−scores) (torch's topk), ties in index order. */
function topk(scores: Float64Array, k: number): number[] {
  const top: number[] = [];
  for (let j = 0; j < scores.length; j++) {
    if (top.length === k && scores[j]! <= scores[top[k - 1]!]!) continue;
    let at = top.length;
    while (at > 0 && scores[top[at - 1]!]! < scores[j]!) at--;
    top.splice(at, 0, j);
    if (top.length > k) top.pop();
  }
  return top;
}

/** 100 · (share of ranks below K) per K: every peer's Recall@K from 0-based ranks. */
function recalls(ranks: readonly number[], ks: readonly number[]): Recalls {
  return Object.fromEntries(ks.map((k) => [k, (100 * ranks.filter((r) => r < k).length) / ranks.length]));
}

/**
 * VAL on one FashionIQ category. generate_caption_pairs.py keeps a pair when both of its images are
 * in the image folder and writes one line per caption, stripped, skipping empty ones; the gallery
 * is the sorted set of those lines' sources and targets (fashion_iq.generate_test_images_all_);
 * test_val.py sets the source's distance to INF, argsorts the squared L2 distances (on unit vectors
 * 2 − 2·cos: we sort 1 − cos, the same order) and takes the ground truth's position.
 */
export function valRecall(pairs: readonly CaptionPair[], exists: (id: string) => boolean, sim: FixedSimilarity, ks: readonly number[]) {
  const lines = pairs
    .filter((e) => exists(e.candidate) && exists(e.target))
    .flatMap((e) => e.captions.map((c) => c.trim()).filter((c) => c !== "").map((text) => ({ source: e.candidate, target: e.target, text })));
  const database = [...new Set(lines.flatMap((l) => [l.source, l.target]))].sort();
  const gallery = sim.gallery(database);
  const ranks = lines.map((l) => {
    const dist = sim.scores(sim.query(l.source, l.text), gallery).map((s) => 1 - s);
    dist[database.indexOf(l.source)] = 1e8; // INF
    return positionInArgsort(dist, database.indexOf(l.target));
  });
  return { queries: lines.length, gallery: database.length, recall: recalls(ranks, ks) };
}

/**
 * CoSMo on one FashionIQ category: two queries per pair, `cap1 + " and " + cap2` and the reverse
 * (FashionIQTestQueryDataset); the gallery is split.<category>.val.json (FashionIQTestDataset; its
 * commented "VAL Evaluation method" takes the set of the pairs' targets and candidates instead:
 * `galleryIds` says which); every gallery entry named like the reference gets the matrix's minimum
 * score (ValidationMetricsCalculator), and a query hits at K when its target is among topk(K).
 */
export function cosmoRecall(pairs: readonly CaptionPair[], galleryIds: readonly string[], sim: FixedSimilarity, ks: readonly number[]) {
  const queries = pairs.flatMap((e) => {
    const [c1, c2] = e.captions as [string, string];
    return [`${c1} and ${c2}`, `${c2} and ${c1}`].map((text) => ({ ref: e.candidate, text, target: e.target }));
  });
  const gallery = sim.gallery(galleryIds);
  const rows = () => queries.map((q) => sim.scores(sim.query(q.ref, q.text), gallery));
  let min = Infinity;
  for (const row of rows()) for (const s of row) min = Math.min(min, s);
  const maxK = Math.max(...ks);
  const top = rows().map((row, i) => {
    galleryIds.forEach((id, j) => id === queries[i]!.ref && (row[j] = min));
    return topk(row, maxK);
  });
  const hitsAt = (k: number) => top.filter((t, i) => t.slice(0, k).some((j) => galleryIds[j] === queries[i]!.target)).length;
  return { queries: queries.length, gallery: galleryIds.length, recall: Object.fromEntries(ks.map((k) => [k, (100 * hitsAt(k)) / queries.length])) as Recalls };
}

/**
 * ARTEMIS ranking (evaluate.compute_and_process_compatibility_scores): the source's score is −inf,
 * scores sorted descending, the rank is the best ground truth's position (get_rank_of_GT).
 */
function artemisRanks(queries: readonly { src: number; text: string; ref: string; trg: number }[], imageIds: readonly string[], sim: FixedSimilarity) {
  const gallery = sim.gallery(imageIds);
  return queries.map((q) => {
    const cs = sim.scores(sim.query(q.ref, q.text), gallery);
    cs[q.src] = -Infinity;
    return positionInArgsort(cs.map((s) => -s), q.trg); // sort(descending=True), then the target's place
  });
}

/**
 * ARTEMIS on one FashionIQ category (dataset_fashionIQ.py): the gallery is split.<category>.val.json
 * (image_id2name), two queries per pair — captions [0:2] and [2::-1], tokens joined by <and> —
 * the source and target found by `image_id2name.index`.
 */
export function artemisFashionIQRecall(pairs: readonly CaptionPair[], split: readonly string[], sim: FixedSimilarity, ks: readonly number[]) {
  const queries = pairs.flatMap((e) =>
    [e.captions.slice(0, 2), e.captions.slice(0, 3).reverse()].map((capts) => ({
      ref: e.candidate,
      src: split.indexOf(e.candidate),
      trg: split.indexOf(e.target),
      text: capts.join(" and "),
    })),
  );
  return { queries: queries.length, gallery: split.length, recall: recalls(artemisRanks(queries, split, sim), ks) };
}

/**
 * ARTEMIS on Shoes (prepare_shoes_data.py, dataset_shoes.py): a caption is an evaluation triplet when
 * both images are in eval_im_names.txt (and not both in the training list); the gallery is that list.
 */
export function artemisShoesRecall(captions: readonly ShoesCaption[], trainNames: readonly string[], evalNames: readonly string[], sim: FixedSimilarity, ks: readonly number[]) {
  const [train, evaluation] = [new Set(trainNames), new Set(evalNames)];
  const queries = captions
    .filter((a) => !(train.has(a.ImageName) && train.has(a.ReferenceImageName)) && evaluation.has(a.ImageName) && evaluation.has(a.ReferenceImageName))
    .map((a) => ({ ref: a.ReferenceImageName, src: evalNames.indexOf(a.ReferenceImageName), trg: evalNames.indexOf(a.ImageName), text: a.RelativeCaption }));
  return { queries: queries.length, gallery: evalNames.length, recall: recalls(artemisRanks(queries, evalNames, sim), ks) };
}

/** Python's str.strip(chars). */
const pyStrip = (s: string, chars: string) => {
  let [a, b] = [0, s.length];
  while (a < b && chars.includes(s[a]!)) a++;
  while (b > a && chars.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
};

/**
 * CLIP4Cir on one FashionIQ category (validate.compute_fiq_val_metrics): one query per pair,
 * `c1.strip('.?, ').capitalize() + " and " + c2.strip('.?, ')`; the gallery is split.<category>.val.json
 * (the "classic" dataset); the reference is not removed; distances 1 − cos, argsorted; a hit at K when
 * the target's name is among the first K.
 */
export function clip4cirRecall(pairs: readonly CaptionPair[], split: readonly string[], sim: FixedSimilarity, ks: readonly number[]) {
  const gallery = sim.gallery(split);
  const ranks = pairs.map((e) => {
    const [c1, c2] = e.captions.map((c) => pyStrip(c, ".?, ")) as [string, string];
    const text = `${c1.charAt(0).toUpperCase()}${c1.slice(1).toLowerCase()} and ${c2}`;
    const distances = sim.scores(sim.query(e.candidate, text), gallery).map((s) => 1 - s);
    return positionInArgsort(distances, split.indexOf(e.target)); // the one column where the sorted names equal the target's
  });
  return { queries: pairs.length, gallery: split.length, recall: recalls(ranks, ks) };
}

/** A Fashion200k test label line, as the label file has it. */
export interface LabelLine {
  path: string;
  description: string;
}

/**
 * TIRG on Fashion200k (datasets.Fashion200k, test_retrieval.test): every label line is a gallery
 * image with its caption, stripped (case kept); file2imgid maps a path to its last line; a query's
 * text is get_different_word's "replace X with Y" of the source's and target's captions; the source's
 * entry scores −10e10; the neighbours are argsort(−sims)[:110], ties in index order (numpy leaves
 * those to its sort), and a query hits at K when the target's caption is among the first K. Returns
 * each query's first hit's position (Infinity beyond 110) and the recalls.
 */
export function tirgRanks(lines: readonly LabelLine[], queries: readonly [source: string, target: string][], sim: FixedSimilarity, ks: readonly number[]) {
  const captions = lines.map((l) => l.description.trim());
  const file2imgid = new Map(lines.map((l, i) => [l.path, i]));
  const gallery = sim.gallery(lines.map((l) => l.path));
  const firstWordNotIn = (a: string[], b: string[]) => a.find((w) => !b.includes(w)) ?? a[a.length - 1]!;
  const ranks = queries.map(([sourceFile, targetFile]) => {
    const [idx, targetIdx] = [file2imgid.get(sourceFile)!, file2imgid.get(targetFile)!];
    const [s, t] = [captions[idx]!.split(/\s+/), captions[targetIdx]!.split(/\s+/)];
    const sims = sim.scores(sim.query(sourceFile, `replace ${firstWordNotIn(s, t)} with ${firstWordNotIn(t, s)}`), gallery);
    sims[idx] = -10e10;
    const first = topk(sims, 110).findIndex((j) => captions[j] === captions[targetIdx]);
    return first < 0 ? Infinity : first;
  });
  return { ranks, recall: recalls(ranks, ks) };
}
