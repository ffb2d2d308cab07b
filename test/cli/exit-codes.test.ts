// One rule for messages and exit codes (src/cli/main.ts runCommand): a problem the user fixes exits
// 2 with the file and the fix, whichever command meets it. The members the walk-through found:
// the same corrupt checkpoint from `eval` and from `build --resume`, a checkpoint header that does
// not parse behind a rehashed manifest, a cut-off vocabulary.json, `--out` naming a file.
import * as tf from "@tensorflow/tfjs";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/index.js";
import { train } from "../../src/run/train.js";
import { ROOT, sdfn } from "../support/cli.js";

tf.env().set("IS_TEST", true);

const RECIPE = join(ROOT, "test/train/fixtures/tiny.yaml");
const scratch = mkdtempSync(join(tmpdir(), "sdfn-exit-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let trained: string;
let copies = 0;
/** A copy of the trained run to damage. */
const copy = () => {
  const dir = join(scratch, `copy${copies++}`);
  cpSync(trained, dir, { recursive: true });
  return dir;
};

beforeAll(async () => {
  trained = join(scratch, "trained");
  await train(await loadRecipe(RECIPE), { outDir: trained, onEvent: () => {} });
});

/** `eval --checkpoint last` and `build --resume` of `dir`: both exit 2 with one message, which is returned. */
async function bothRefuse(dir: string): Promise<string> {
  const evaluated = await sdfn("eval", dir, "--checkpoint", "last");
  const resumed = await sdfn("build", "--resume", dir, "--log", "plain");
  expect(evaluated.code, evaluated.err).toBe(2);
  expect(resumed.code, resumed.err).toBe(2);
  expect(resumed.err).toBe(evaluated.err);
  expect(evaluated.err).not.toMatch(/SDFN_DEBUG|TypeError|undefined/);
  return evaluated.err;
}

const LAST_FIX = "restore the files, or start the run again in a new directory (sdfn build RECIPE --out NEW_DIR)";

describe("a problem the user fixes exits 2 with the file and the fix, from every command", () => {
  it("a corrupt checkpoint (last and last.prev): the same message and exit 2 from eval and from build --resume", async () => {
    const dir = copy();
    for (const tag of ["last", "last.prev"]) {
      const file = join(dir, "checkpoints", tag, "weights.safetensors");
      const bytes = readFileSync(file);
      bytes[bytes.length - 5] ^= 0x40;
      writeFileSync(file, bytes);
    }
    const corrupt = (tag: string) => `${join(dir, "checkpoints", tag, "weights.safetensors")} is corrupt: its SHA-256 does not match the manifest`;
    expect(await bothRefuse(dir)).toBe(`error: no usable "last" checkpoint in ${join(dir, "checkpoints")}: ${corrupt("last")}; ${corrupt("last.prev")}; ${LAST_FIX}\n`);
  });

  it("a weights header that is no tensor's, behind a rehashed manifest: the file and what is wrong, exit 2 (was: undefined is not iterable, exit 1)", async () => {
    const dir = copy();
    for (const tag of ["last", "last.prev"]) {
      const unit = join(dir, "checkpoints", tag);
      const file = join(unit, "weights.safetensors");
      const bytes = readFileSync(file);
      const length = Number(bytes.readBigUInt64LE(0));
      const header = JSON.parse(bytes.subarray(8, 8 + length).toString("utf8")) as Record<string, Record<string, unknown>>;
      const first = Object.keys(header).find((k) => k !== "__metadata__")!;
      delete header[first]!.data_offsets;
      const json = Buffer.from(JSON.stringify(header).padEnd(length)); // same length: the data stays where it was
      const edited = Buffer.concat([bytes.subarray(0, 8), json, bytes.subarray(8 + length)]);
      writeFileSync(file, edited);
      const manifest = JSON.parse(readFileSync(join(unit, "manifest.json"), "utf8")) as { files: Record<string, { bytes: number; sha256: string }> };
      manifest.files["weights.safetensors"] = { bytes: edited.length, sha256: createHash("sha256").update(edited).digest("hex") };
      writeFileSync(join(unit, "manifest.json"), JSON.stringify(manifest));
    }
    const err = await bothRefuse(dir);
    expect(err).toMatch(
      new RegExp(`^error: ${join(dir, "checkpoints", "last", "weights.safetensors")}: not a safetensors file \\(tensor "[^"]+": its data_offsets is not \\[begin, end\\]\\); `),
    );
    expect(err).toContain(LAST_FIX);
  });

  it("a cut-off vocabulary.json: the file, line and column, and the fix, exit 2 from eval and from build --resume (was: Unexpected end of JSON input, no file)", async () => {
    const dir = copy();
    const file = join(dir, "vocabulary.json");
    writeFileSync(file, readFileSync(file).subarray(0, 117));
    expect(await bothRefuse(dir)).toBe(
      `error: ${file}:1:118: not valid JSON: it ends early (the file is cut off: a full disk or a killed writer?); ` +
        "a run tokenizes with the vocabulary it trained with; restore the file from a copy, or train the recipe again (its training captions give the same vocabulary)\n",
    );
  });

  it("--out naming a file: exit 2, says it is a file, and the file is left as it was (was: an ENOTDIR trace, exit 1)", async () => {
    const file = join(scratch, "notes.txt");
    writeFileSync(file, "mine\n");
    const r = await sdfn("build", RECIPE, "--out", file, "--log", "plain");
    expect(r.code).toBe(2);
    expect(r.err).toBe(`error: ${file} is a file, not a directory; give a directory for the run (--out DIR: a new one, or an empty one)\n`);
    expect(readFileSync(file, "utf8")).toBe("mine\n");
  });

  it("a batch larger than the training set: at its recipe line, exit 2, no run directory (was: exit 1)", async () => {
    const recipe = join(scratch, "big-batch.yaml");
    writeFileSync(recipe, `extends: ${RECIPE}\nname: big-batch\ntraining:\n  batch_size: 64\n  drop_last: true\n`);
    const out = join(scratch, "big-batch-run");
    const r = await sdfn("build", recipe, "--out", out, "--log", "plain");
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${recipe}:4:15: error: 20 training pairs give no training step at batch_size 64; lower training.batch_size, or train on more pairs\n`);
    expect(existsSync(out)).toBe(false);
  });
});
