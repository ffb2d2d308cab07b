// `sdfn query`: a known target's rank over the whole gallery, beyond the top K too (checked
// against the full ranking), and the --help example naming a query the quickstart really has.
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { knownTargets } from "../../src/cli/commands/query-output.js";
import { command as query } from "../../src/cli/commands/query.js";
import { openDataset } from "../../src/data/index.js";
import { loadRecipe } from "../../src/recipe/index.js";
import { train } from "../../src/run/train.js";
import { ROOT, sdfn } from "../support/cli.js";

tf.env().set("IS_TEST", true);

const scratch = mkdtempSync(join(tmpdir(), "sdfn-query-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const run = join(scratch, "run");
beforeAll(async () => {
  await train(await loadRecipe(join(ROOT, "test/train/fixtures/tiny.yaml")), { outDir: run, onEvent: () => {} });
});

interface Listed {
  reference: string;
  text: string;
  targets: string[];
}
interface Result {
  gallery_size: number;
  target_rank: number | null;
  top: { rank: number; id: string }[];
}

describe("sdfn query", () => {
  it("gives a known target's rank in the whole gallery, beyond the top K too, as the full ranking has it", async () => {
    const list = JSON.parse((await sdfn("query", run, "--list", "-k", "8", "--json")).out) as Listed[];
    let beyond = 0;
    for (const q of list) {
      const one = await sdfn("query", run, "--image", q.reference, "--text", q.text, "-k", "1", "--json");
      const { target_rank, gallery_size } = JSON.parse(one.out) as Result;
      const all = JSON.parse((await sdfn("query", run, "--image", q.reference, "--text", q.text, "-k", String(gallery_size), "--json")).out) as Result;
      expect(target_rank).toBe(all.top.find((t) => q.targets.includes(t.id))!.rank);
      if (target_rank! > 1) {
        beyond++;
        const text = await sdfn("query", run, "--image", q.reference, "--text", q.text, "-k", "1");
        expect(text.out).toContain(`target ${q.targets.join(", ")}: rank ${target_rank} of ${gallery_size} (beyond the top 1)\n`);
      }
    }
    expect(beyond).toBeGreaterThan(0); // a barely trained model: some targets are below the first place
  });

  it("says so when the text is no evaluation query (no known target), and gives no rank", async () => {
    const r = await sdfn("query", run, "--image", "test/0/0", "--text", "make everything pink", "-k", "2", "--json");
    expect(JSON.parse(r.out)).toMatchObject({ targets: [], target_rank: null });
  });

  it("--help's example is a query the quickstart's evaluation set has", async () => {
    const example = /sdfn query runs\/\S+ --image (\S+) --text "([^"]+)"/.exec(query.help)!;
    const loaded = await loadRecipe(join(ROOT, "recipes/quickstart.yaml"));
    const dataset = await openDataset(loaded.recipe, loaded.registry);
    expect(knownTargets(dataset, example[1]!, example[2]!)).toEqual(["test/0/0/2"]);
  });
});
