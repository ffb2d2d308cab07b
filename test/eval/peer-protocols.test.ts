// FashionIQ's query forms and Shoes, on the real annotation files (SDFN_SHARED_DATA): sdfn's
// evaluation (the dataset's queries and gallery, src/eval) and each peer's rule re-implemented from
// its published evaluation code (test/eval/peers.ts) rank the same fixed scores, and their Recall@K
// agree to the digit — per category, and the category mean. Query counts per form are the issue's.
import { mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/builtins.js";
import { loadDatasetSource } from "../../src/data/index.js";
import { evaluate } from "../../src/eval/evaluate.js";
import { missing, SHARED_DATA } from "../support/requires.js";
import { artemisFashionIQRecall, artemisShoesRecall, clip4cirRecall, cosmoRecall, FixedSimilarity, valRecall, type CaptionPair, type Recalls, type ShoesCaption } from "./peers.js";

tf.env().set("IS_TEST", true);
const noData = missing("sharedData");
const registry = createRegistry();
const CATEGORIES = ["dress", "shirt", "toptee"] as const;
const KS = [1, 10, 50];
const sim = new FixedSimilarity(4);
const json = async <T>(file: string): Promise<T> => JSON.parse(await readFile(file, "utf8")) as T;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "sdfn-peers-"));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** sdfn's queries, galleries and Recall@K (per set and "avg") for `data` over the fixed scores; no images are read. */
async function sdfnEvaluation(data: { dataset: string } & Record<string, unknown>) {
  const { source } = await loadDatasetSource({ seed: 0, data }, registry);
  const { net, loader } = sim.network();
  const metrics = await evaluate(net, loader, source.evalSets, { ks: KS, batchSize: 1024 });
  return { sets: source.evalSets, metrics };
}

type PeerResult = { queries: number; gallery: number; recall: Recalls };

/** Each set's query count, gallery size and R@K equal the peer's; sdfn's avg is the peers' category mean. */
function expectAgreement(sdfn: Awaited<ReturnType<typeof sdfnEvaluation>>, peer: Record<string, PeerResult>) {
  for (const set of sdfn.sets) {
    const p = peer[set.name]!;
    expect([set.name, set.queries.length, set.gallery.length]).toEqual([set.name, p.queries, p.gallery]);
    for (const k of KS) expect([set.name, k, sdfn.metrics[`${set.name}/R@${k}`]]).toEqual([set.name, k, p.recall[k]]);
  }
  for (const k of KS) expect(sdfn.metrics[`avg/R@${k}`]).toBeCloseTo(mean(sdfn.sets.map((s) => peer[s.name]!.recall[k]!)), 12);
}

describe.skipIf(noData)("FashionIQ query forms against the peers' evaluation code (real annotation files)", () => {
  let root: string;
  const pairs: Record<string, CaptionPair[]> = {};
  const splits: Record<string, string[]> = {};
  const fiq = (data: Record<string, unknown>) => ({ dataset: "fashioniq", root, categories: [...CATEGORIES], ...data });
  const byCategory = (f: (c: (typeof CATEGORIES)[number]) => PeerResult) => Object.fromEntries(CATEGORIES.map((c) => [c, f(c)]));

  beforeAll(async () => {
    root = join(tmp, "fashioniq");
    await mkdir(root);
    for (const dir of ["captions", "image_splits"]) await symlink(join(SHARED_DATA, "fashioniq", dir), join(root, dir));
    for (const c of CATEGORIES) {
      pairs[c] = await json(join(root, "captions", `cap.${c}.val.json`));
      splits[c] = await json(join(root, "image_splits", `split.${c}.val.json`));
    }
  });

  it("per_caption with the val gallery is VAL's: 4034/4075/3920 queries over 2628/3089/2902 images", async () => {
    const sdfn = await sdfnEvaluation(fiq({ query_form: "per_caption", protocol: "val" }));
    expect(sdfn.sets.map((s) => s.queries.length)).toEqual([4034, 4075, 3920]);
    expectAgreement(sdfn, byCategory((c) => valRecall(pairs[c]!, () => true, sim, KS)));
  });

  it("both_orders with the original gallery is CoSMo's and ARTEMIS's: 4034/4076/3922 queries over 3817/6346/5373 images", async () => {
    const sdfn = await sdfnEvaluation(fiq({ query_form: "both_orders", protocol: "original" }));
    expect(sdfn.sets.map((s) => s.queries.length)).toEqual([4034, 4076, 3922]);
    expectAgreement(sdfn, byCategory((c) => cosmoRecall(pairs[c]!, splits[c]!, sim, KS)));
    expectAgreement(sdfn, byCategory((c) => artemisFashionIQRecall(pairs[c]!, splits[c]!, sim, KS)));
  });

  it("both_orders with the val gallery is CoSMo's VAL evaluation branch", async () => {
    const sdfn = await sdfnEvaluation(fiq({ query_form: "both_orders", protocol: "val" }));
    const valGallery = (c: string) => [...new Set(pairs[c]!.flatMap((e) => [e.target, e.candidate]))].sort();
    expectAgreement(sdfn, byCategory((c) => cosmoRecall(pairs[c]!, valGallery(c), sim, KS)));
  });

  it("joined with the original gallery and the reference kept is CLIP4Cir's: 2017/2038/1961 queries", async () => {
    const sdfn = await sdfnEvaluation(fiq({ query_form: "joined", protocol: "original", exclude_reference: false }));
    expect(sdfn.sets.map((s) => s.queries.length)).toEqual([2017, 2038, 1961]);
    expectAgreement(sdfn, byCategory((c) => clip4cirRecall(pairs[c]!, splits[c]!, sim, KS)));
  });

  it("the forms are not interchangeable: joined queries give other recalls than VAL's rule (the agreement above is not vacuous)", async () => {
    const joined = await sdfnEvaluation(fiq({ query_form: "joined", protocol: "val", categories: ["dress"] }));
    const val = valRecall(pairs.dress!, () => true, sim, KS);
    expect(KS.map((k) => joined.metrics[`dress/R@${k}`])).not.toEqual(KS.map((k) => val.recall[k]));
  });
});

describe.skipIf(noData)("Shoes against ARTEMIS's evaluation code (real annotation files)", () => {
  it("1761 queries over the 4658 eval images, reference excluded: the same Recall@1/10/50", async () => {
    const root = join(tmp, "shoes");
    await mkdir(root);
    for (const f of ["relative_captions_shoes.json", "train_im_names.txt", "eval_im_names.txt"]) await symlink(join(SHARED_DATA, "shoes", f), join(root, f));
    const names = async (f: string) => (await readFile(join(root, f), "utf8")).split("\n").map((l) => l.trim()).filter(Boolean);
    const peer = artemisShoesRecall(await json<ShoesCaption[]>(join(root, "relative_captions_shoes.json")), await names("train_im_names.txt"), await names("eval_im_names.txt"), sim, KS);
    const sdfn = await sdfnEvaluation({ dataset: "shoes", root });
    expect(peer.queries).toBe(1761);
    expectAgreement(sdfn, { shoes: peer });
  });
});
