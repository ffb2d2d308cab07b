// Every malformed annotation file a real dataset has, through the CLI (`sdfn build`, `sdfn data`):
// exit code 2, a message naming the file, the place (line:col, entry, field) and the expected
// format, never the file's content, and no run directory left behind. One base per reader that
// opens cleanly (`sdfn data` exit 0), then one change per case.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, sdfn } from "../support/cli.js";

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sdfn-annotations-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A secret in every broken file: no message may print it. */
const SECRET = "SECRET-CONTENT";

const recipe = (dataset: string, root: string, extra = "") => `version: 1
name: tiny
seed: 0
backend: cpu
data: { dataset: ${dataset}, root: ${JSON.stringify(root)}, image_size: 16${extra} }
encoders:
  image: { type: small_cnn, dim: 8, channels: [4, 8] }
  text: { type: lstm, hidden: 8, embedding_dim: 8 }
fusion: { layers: 1, modules: [{ type: RCM }], router: { type: static } }
losses: [{ type: batch_classification }]
training: { epochs: 1, batch_size: 2 }
evaluation: { recall_at: [1] }
`;

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
const FASHIONIQ = {
  "captions/cap.dress.train.json": json([
    { candidate: "A1", target: "A2", captions: ["is red", "is longer"] },
    { candidate: "A2", target: "A3", captions: ["is blue", "shorter"] },
  ]),
  "captions/cap.dress.val.json": json([
    { candidate: "B1", target: "B2", captions: ["is green", "has sleeves"] },
    { candidate: "B2", target: "B3", captions: ["is black", "no sleeves"] },
  ]),
  "image_splits/split.dress.val.json": json(["B1", "B2", "B3"]),
};
const SHOES = {
  "relative_captions_shoes.json": json([
    { ImageName: "img_womens_clogs_2.jpg", ReferenceImageName: "img_womens_clogs_1.jpg", RelativeCaption: "is darker" },
    { ImageName: "img_womens_pumps_2.jpg", ReferenceImageName: "img_womens_pumps_1.jpg", RelativeCaption: "has a higher heel" },
  ]),
  "train_im_names.txt": "img_womens_clogs_1.jpg\nimg_womens_clogs_2.jpg\n",
  "eval_im_names.txt": "img_womens_pumps_1.jpg\nimg_womens_pumps_2.jpg\n",
};

/** A fresh dataset folder: the base files with `changes` (null removes a file), and its recipe. */
function dataset(name: string, base: Record<string, string>, changes: Record<string, string | null>, extra = "") {
  const root = join(work, name);
  if (name.startsWith("f200k")) cpSync(join(ROOT, "test/fixtures/fashion200k"), root, { recursive: true });
  for (const [file, text] of Object.entries({ ...base, ...changes })) {
    if (text === null) rmSync(join(root, file), { force: true });
    else {
      mkdirSync(join(root, file, ".."), { recursive: true });
      writeFileSync(join(root, file), text);
    }
  }
  const kind = name.startsWith("fiq") ? "fashioniq" : name.startsWith("shoes") ? "shoes" : "fashion200k";
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, recipe(kind, root, kind === "fashion200k" ? `, categories: [dress]${extra}` : kind === "fashioniq" ? `, categories: [dress]${extra}` : extra));
  return { root, file };
}

/** `sdfn build` on the case: exit 2, the message, and no run directory. */
async function buildFails(name: string, base: Record<string, string>, changes: Record<string, string | null>, extra = "") {
  const { file } = dataset(name, base, changes, extra);
  const out = join(work, `run-${name}`);
  const r = await sdfn("build", file, "--out", out, "--log", "plain");
  expect(r.code, r.err).toBe(2);
  expect(existsSync(out)).toBe(false);
  expect(r.err).not.toContain(SECRET);
  expect(r.err).not.toMatch(/at [\w.]+ \(|TypeError|is not a function/); // no trace, no JavaScript error
  return r.err;
}

describe("the base datasets open", () => {
  it.each([
    ["fiq-base", FASHIONIQ, ""],
    ["fiq-base-original", FASHIONIQ, ", protocol: original"],
    ["shoes-base", SHOES, ""],
    ["f200k-base", {}, ""],
  ])("%s: sdfn data exits 0 and counts what it found", async (name, base, extra) => {
    const { file } = dataset(name, base, {}, extra);
    const r = await sdfn("data", file);
    expect(r.code, r.err).toBe(0);
    const stats = JSON.parse(r.out);
    expect(stats.train.pairs).toBeGreaterThan(0);
  });
});

describe("fashioniq: malformed captions and splits", () => {
  const cap = (dir: string) => join(work, dir, "captions/cap.dress.train.json");
  it("captions that are not a list", async () => {
    const err = await buildFails("fiq-captions-string", FASHIONIQ, {
      "captions/cap.dress.train.json": json([{ candidate: "A1", target: "A2", captions: SECRET }]),
    });
    expect(err).toBe(
      `error: fashioniq: ${cap("fiq-captions-string")} has a problem:\n` +
        `  ${cap("fiq-captions-string")}:5:17: entry [0], "captions": expected a list, got a string\n` +
        `fashioniq expects there a non-empty list of {"candidate": ASIN, "target": ASIN, "captions": ["…", "…"]}.\n`,
    );
  });

  it("an entry missing a field, and wrong types, all at once", async () => {
    const err = await buildFails("fiq-missing", FASHIONIQ, {
      "captions/cap.dress.train.json": json([
        { candidate: "A1", captions: ["x"] },
        { candidate: 7, target: "A3", captions: ["y", 5] },
        SECRET,
      ]),
    });
    const f = cap("fiq-missing");
    expect(err).toContain(`${f} has 4 problems:\n`);
    expect(err).toContain(`  ${f}:2:3: entry [0], "target": missing\n`); // at the entry that lacks it
    expect(err).toContain(`  ${f}:9:18: entry [1], "candidate": expected a string, got a number\n`);
    expect(err).toContain(`  ${f}:13:7: entry [1], "captions[1]": expected a string, got a number\n`);
    expect(err).toContain(`  ${f}:16:3: entry [2]: expected a mapping, got a string\n`);
  });

  it("empty caption and split lists", async () => {
    expect(await buildFails("fiq-empty-caps", FASHIONIQ, { "captions/cap.dress.val.json": "[]\n" })).toContain(
      `${join(work, "fiq-empty-caps/captions/cap.dress.val.json")}:1:1: the file: an empty list; it needs at least 1 entry`,
    );
    expect(await buildFails("fiq-empty-split", FASHIONIQ, { "image_splits/split.dress.val.json": "[]" }, ", protocol: original")).toContain(
      `${join(work, "fiq-empty-split/image_splits/split.dress.val.json")}:1:1: the file: an empty list; it needs at least 1 entry\nfashioniq expects there a non-empty list of image names (ASINs).`,
    );
  });

  it("bad JSON: a cut-off file, located, without quoting it", async () => {
    const text = FASHIONIQ["captions/cap.dress.train.json"].replace("is blue", SECRET).slice(0, 140);
    const err = await buildFails("fiq-cut", FASHIONIQ, { "captions/cap.dress.train.json": text });
    expect(err).toMatch(new RegExp(`${cap("fiq-cut")}:\\d+:\\d+: not valid JSON: `));
    expect(await buildFails("fiq-garbage", FASHIONIQ, { "captions/cap.dress.train.json": `${SECRET} password\n` })).toContain(
      `${cap("fiq-garbage")}:1:1: not valid JSON: unexpected character`,
    );
  });

  it("unknown image names: a val target outside the original protocol's gallery, a name with folders", async () => {
    const err = await buildFails("fiq-unknown", FASHIONIQ, { "image_splits/split.dress.val.json": json(["B1", "B2"]) }, ", protocol: original");
    const val = join(work, "fiq-unknown/captions/cap.dress.val.json");
    expect(err).toContain(`${val}:12:15: entry [1], "target": names an image that is not in split.dress.val.json (the original protocol's gallery)`);
    const folders = await buildFails("fiq-folders", FASHIONIQ, {
      "captions/cap.dress.train.json": json([{ candidate: "../../etc/A1", target: "A2", captions: ["x"] }]),
    });
    expect(folders).toContain(`entry [0], "candidate": expected an image name (a file name, without folders)`);
  });

  it("a missing captions file names what data.root should hold", async () => {
    expect(await buildFails("fiq-nofile", FASHIONIQ, { "captions/cap.dress.val.json": null })).toBe(
      `error: fashioniq: cannot read ${join(work, "fiq-nofile/captions/cap.dress.val.json")} (no such file); data.root should hold captions/cap.<category>.<split>.json and image_splits/split.<category>.<split>.json\n`,
    );
  });
});

describe("shoes: malformed captions and lists", () => {
  const cap = (dir: string) => join(work, dir, "relative_captions_shoes.json");
  it("captions that are not a list (the file is a mapping)", async () => {
    expect(await buildFails("shoes-mapping", SHOES, { "relative_captions_shoes.json": json({ captions: [SECRET] }) })).toContain(
      `${cap("shoes-mapping")}:1:1: the file: expected a list, got a mapping`,
    );
  });

  it("a missing field and a wrong type", async () => {
    const err = await buildFails("shoes-fields", SHOES, {
      "relative_captions_shoes.json": json([
        { ImageName: "img_womens_clogs_2.jpg", RelativeCaption: SECRET },
        { ImageName: "img_womens_pumps_2.jpg", ReferenceImageName: "img_womens_pumps_1.jpg", RelativeCaption: 5 },
      ]),
    });
    expect(err).toContain(`${cap("shoes-fields")}:2:3: entry [0], "ReferenceImageName": missing`);
    expect(err).toContain(`${cap("shoes-fields")}:9:24: entry [1], "RelativeCaption": expected a string, got a number`);
  });

  it("empty lists, and a list line that is a path", async () => {
    expect(await buildFails("shoes-empty", SHOES, { "eval_im_names.txt": "\n\n" })).toContain(
      `${join(work, "shoes-empty/eval_im_names.txt")}:1: the file is empty: it lists nothing\nshoes expects there one image file name per line`,
    );
    expect(await buildFails("shoes-path", SHOES, { "train_im_names.txt": `img_womens_clogs_1.jpg\n/etc/${SECRET}\n` })).toContain(
      `${join(work, "shoes-path/train_im_names.txt")}:2: the file: expected an image name (a file name, without folders)`,
    );
  });

  it("bad JSON", async () => {
    const err = await buildFails("shoes-comma", SHOES, { "relative_captions_shoes.json": `[{"ImageName": "${SECRET}",}]` });
    expect(err).toContain(`${cap("shoes-comma")}:1:${`[{"ImageName": "${SECRET}",`.length + 1}: not valid JSON: expected a "quoted" key`);
  });

  it("unknown image names: a captioned image in neither list", async () => {
    const err = await buildFails("shoes-unlisted", SHOES, { "eval_im_names.txt": "img_womens_pumps_1.jpg\n" });
    expect(err).toContain(`${cap("shoes-unlisted")}:8:18: entry [1], "ImageName": names an image in neither train_im_names.txt nor eval_im_names.txt`);
  });
});

describe("fashion200k: malformed label and query files", () => {
  const labels = (dir: string) => join(work, dir, "labels/dress_train_detect_all.txt");
  const good = "women/dresses/casual_and_day_dresses/1001/1001_0.jpeg\t0.91\tblack cotton midi dress\n";
  it("a missing field (no description) and a wrong type (a score that is not a number)", async () => {
    const err = await buildFails("f200k-fields", {}, {
      "labels/dress_train_detect_all.txt": `${good}women/x/1.jpeg\t0.5\n${SECRET}\thigh\tred dress\n`,
    });
    expect(err).toContain(`  ${labels("f200k-fields")}:2: "description": missing\n`);
    expect(err).toContain(`  ${labels("f200k-fields")}:3: "score": expected a detection score (a number)\n`);
    expect(err).toContain("fashion200k expects there one labelled image per line: path<TAB>detection_score<TAB>description.");
  });

  it("empty label and query files", async () => {
    expect(await buildFails("f200k-empty", {}, { "labels/dress_test_detect_all.txt": "" })).toContain(
      `${join(work, "f200k-empty/labels/dress_test_detect_all.txt")}:1: the file is empty: it lists nothing`,
    );
    expect(await buildFails("f200k-noqueries", {}, { "test_queries.txt": "\n" })).toContain(
      `${join(work, "f200k-noqueries/test_queries.txt")}:1: the file is empty: it lists nothing`,
    );
  });

  it("unknown image names: a query naming an image the test labels do not have; a path leaving data.root", async () => {
    const err = await buildFails("f200k-unknown", {}, {
      "test_queries.txt": "women/dresses/day_dresses/2001/2001_0.jpeg women/dresses/day_dresses/2002/2002_0.jpeg\nwomen/SECRET-CONTENT.jpeg women/dresses/day_dresses/2001/2001_0.jpeg\n",
    });
    expect(err).toContain(`${join(work, "f200k-unknown/test_queries.txt")}:2: the source image is not a test image of the label files (categories dress)`);
    expect(await buildFails("f200k-escape", {}, { "labels/dress_train_detect_all.txt": `${good}../../${SECRET}\t0.9\tred dress\n` })).toContain(
      `${labels("f200k-escape")}:2: the image path leaves data.root`,
    );
    // A query line with three paths: the format, at its line.
    expect(await buildFails("f200k-three", {}, { "test_queries.txt": "a b c\n" })).toContain(
      `${join(work, "f200k-three/test_queries.txt")}:1: "extra": more than two paths on the line (expected: source target)`,
    );
  });
});

describe("data paths stay under data.root", () => {
  it("a recipe path outside data.root is exit 2 naming the key; --allow-outside-root reads it", async () => {
    const { root } = dataset("shoes-outside", SHOES, {});
    const elsewhere = join(work, "elsewhere.json");
    writeFileSync(elsewhere, SHOES["relative_captions_shoes.json"]);
    const file = join(work, "shoes-outside-abs.yaml");
    writeFileSync(file, recipe("shoes", root, `, captions_file: ${JSON.stringify(elsewhere)}, train_list: ../../../../etc/passwd`));
    const r = await sdfn("data", file);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `error: 2 data paths leave data.root (${root}):\n` +
        `  data.captions_file: ${JSON.stringify(elsewhere)} resolves to ${elsewhere}\n` +
        `  data.train_list: "../../../../etc/passwd" resolves to /etc/passwd\n` +
        `Data paths are relative to data.root, without ".." or an absolute path elsewhere; move the file under data.root, change data.root, or pass --allow-outside-root to read outside it.\n`,
    );
    const out = join(work, "run-outside");
    expect((await sdfn("build", file, "--out", out)).code).toBe(2);
    expect(existsSync(out)).toBe(false);
    // Allowed: the captions are read from elsewhere; /etc/passwd is then read as a list, and its
    // lines (names with ":" and "/") are refused by line number, never quoted.
    const allowed = await sdfn("data", file, "--allow-outside-root");
    expect(allowed.code).toBe(2);
    expect(allowed.err).toContain("/etc/passwd:1: the file: expected an image name (a file name, without folders)");
    expect(allowed.err).not.toContain("root:x:");
  });
});

describe("symbolic links", () => {
  const png = Buffer.from(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" + "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201" + "6d3c7f3d0000000049454e44ae426082",
    "hex",
  );
  it("follows linked image files and linked category folders (FashionIQ, Shoes); a loop is named", async () => {
    const { root, file } = dataset("fiq-links", FASHIONIQ, {});
    const store = join(work, "fiq-store");
    mkdirSync(join(store, "dress"), { recursive: true });
    for (const id of ["A1", "A2", "A3", "B1", "B2"]) writeFileSync(join(store, "dress", `${id}.png`), png);
    mkdirSync(join(root, "images"), { recursive: true });
    symlinkSync(join(store, "dress"), join(root, "images", "dress")); // a linked category folder
    writeFileSync(join(store, "B3.png"), png);
    symlinkSync(join(store, "B3.png"), join(root, "images", "B3.png")); // a linked image file
    symlinkSync(join(store, "nowhere.png"), join(root, "images", "dangling.png")); // dangling: ignored
    const stats = JSON.parse((await sdfn("data", file)).out);
    expect(stats.missing_images).toEqual({ count: 0, first: [] });

    // Shoes: womens_* folders found at any depth, through links; a link back up is a loop.
    const shoes = dataset("shoes-links", SHOES, {});
    const shoeStore = join(work, "shoe-store");
    mkdirSync(join(shoeStore, "womens_clogs", "0"), { recursive: true });
    mkdirSync(join(shoeStore, "womens_pumps"), { recursive: true });
    for (const n of [1, 2]) writeFileSync(join(shoeStore, "womens_clogs", "0", `img_womens_clogs_${n}.jpg`), png);
    for (const n of [1, 2]) writeFileSync(join(shoeStore, "womens_pumps", `img_womens_pumps_${n}.jpg`), png);
    symlinkSync(join(shoeStore, "womens_clogs"), join(shoes.root, "womens_clogs"));
    symlinkSync(join(shoeStore, "womens_pumps"), join(shoes.root, "womens_pumps"));
    expect(JSON.parse((await sdfn("data", shoes.file)).out).missing_images.count).toBe(0);
    symlinkSync(join(shoeStore, "womens_clogs"), join(shoeStore, "womens_clogs", "0", "again"));
    const loop = await sdfn("data", shoes.file);
    expect(loop.code).toBe(2);
    expect(loop.err).toBe(
      `error: symbolic link loop at ${join(shoes.root, "womens_clogs", "0", "again")}: it leads back to ${join(shoeStore, "womens_clogs")}, a folder that contains it; remove the link or point it elsewhere\n`,
    );
    // A link that resolves to itself (a → b → a) is named too.
    rmSync(join(shoeStore, "womens_clogs", "0", "again"));
    symlinkSync(join(shoeStore, "womens_pumps", "b"), join(shoeStore, "womens_pumps", "a"));
    symlinkSync(join(shoeStore, "womens_pumps", "a"), join(shoeStore, "womens_pumps", "b"));
    const self = await sdfn("data", shoes.file);
    expect(self.code).toBe(2);
    expect(self.err).toMatch(new RegExp(`^error: symbolic link loop at ${join(shoes.root, "womens_pumps")}/[ab]: the link leads back to itself through other links; fix or remove it\\n$`));
  });

  it("follows a linked image file by path (Fashion200k)", async () => {
    const { root, file } = dataset("f200k-links", {}, {});
    const stats = JSON.parse((await sdfn("data", file)).out);
    expect(stats.missing_images.count).toBe(11);
    const store = join(work, "f200k-store");
    mkdirSync(store, { recursive: true });
    for (const rel of stats.missing_images.first as string[]) expect(rel.startsWith(root)).toBe(true);
    const anImage = "women/dresses/casual_and_day_dresses/1001/1001_0.jpeg";
    writeFileSync(join(store, "1001.jpeg"), png);
    mkdirSync(join(root, anImage, ".."), { recursive: true });
    symlinkSync(join(store, "1001.jpeg"), join(root, anImage));
    expect(JSON.parse((await sdfn("data", file)).out).missing_images.count).toBe(10);
  });
});

describe("shapes: its parameters are bounded, and an impossible combination is exit 2", () => {
  const QUICKSTART = join(ROOT, "recipes/quickstart.yaml");
  it("train_pairs: 1e9 is refused at validation, at the override", async () => {
    const r = await sdfn("validate", QUICKSTART, "--set", "data.train_pairs=1000000000");
    expect(r.code).toBe(2);
    expect(r.err).toBe("--set data.train_pairs=1000000000: error: data.train_pairs: must be <= 200000, got 1000000000\n");
  });

  it("more reference scenes than a 2×2 grid can make: a data error naming the keys, no run directory", async () => {
    const out = join(work, "run-shapes");
    const r = await sdfn("build", QUICKSTART, "--set", "data.grid=2", "--set", "data.train_pairs=10", "--out", out);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      "error: shapes: only 6 distinct reference scenes fit a group of data.test_references = 32; lower data.test_references or raise data.colors/shapes/grid\n",
    );
    expect(existsSync(out)).toBe(false);
  });
});
