// What `sdfn compare` reads from each run: its best evaluation (not its last), and a note per
// variant naming the settings in which its recipe differs from the others (not its name again).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { collectVariants } from "../../src/compare/collect.js";
import { compareTable } from "../../src/compare/table.js";
import { renderCompare } from "../../src/compare/html.js";
import { eventToFile } from "../../src/run/epochs.js";
import type { TrainEvent } from "../../src/train/events.js";
import { runInfo } from "../cli/render/fixtures/events.js";
import { sdfn } from "../support/cli.js";

const scratch = mkdtempSync(join(tmpdir(), "sdfn-collect-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const evaluation = (epoch: number, mean: number, best: boolean): TrainEvent => ({
  type: "evaluation",
  time: epoch,
  epoch,
  metrics: { "shapes/R@10": mean + 1, "shapes/mean": mean, "avg/R@10": mean + 1, "avg/mean": mean },
  primary: { name: "avg/mean", value: mean },
  best,
});

/** A finished run directory as `sdfn build` writes it: evaluations with these means (the best marked as the trainer marks it). */
function runDir(name: string, router: string, means: number[]): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  let best = -Infinity;
  let bestEpoch = 0;
  const events: TrainEvent[] = [{ type: "start", time: 0, info: runInfo({ epochs: means.length }) }];
  means.forEach((m, epoch) => {
    const isBest = m > best;
    if (isBest) [best, bestEpoch] = [m, epoch];
    events.push(evaluation(epoch, m, isBest));
  });
  writeFileSync(join(dir, "metrics.jsonl"), events.map((e) => `${JSON.stringify(eventToFile(e))}\n`).join(""));
  const last = events.at(-1) as Extract<TrainEvent, { type: "evaluation" }>;
  // summary.json numbers epochs from 1; its metrics are the last evaluation's
  writeFileSync(join(dir, "summary.json"), JSON.stringify({ status: "completed", metrics: last.metrics, best: { name: "avg/mean", value: best, epoch: bestEpoch + 1 } }));
  writeFileSync(join(dir, "recipe.resolved.yaml"), `version: 1\nname: ${name}\nseed: 0\nfusion:\n  layers: 3\n  router:\n    type: ${router}\ntraining:\n  epochs: ${means.length}\n`);
  return dir;
}

describe("compare reads", () => {
  const msr = runDir("msr-run", "msr", [30, 20]); // best at epoch 1, worse at the last
  const shared = runDir("shared-run", "shared", [10, 25, 15]);

  it("each run's best evaluation, with its epoch, not the last one", () => {
    const [a, b] = collectVariants([msr, shared]);
    expect(a!.runs[0]).toMatchObject({ metrics: { "avg/mean": 30, "shapes/R@10": 31 }, epoch: 0 });
    expect(b!.runs[0]).toMatchObject({ metrics: { "avg/mean": 25 }, epoch: 1 });
    const table = compareTable([a!, b!]);
    expect(table.rows.map((r) => [r.cells["shapes/mean"]!.mean, r.epochs])).toEqual([
      [30, [1]],
      [25, [2]],
    ]);
  });

  it("each variant's note: the settings that differ (as --set spells them), not the name again", () => {
    const variants = collectVariants([msr, shared]);
    expect(variants.map((v) => [v.name, v.label])).toEqual([
      ["msr-run", "fusion.router.type=msr training.epochs=2"],
      ["shared-run", "fusion.router.type=shared training.epochs=3"],
    ]);
    const html = renderCompare(variants, compareTable(variants), "t");
    expect(html).toContain("<li><b>msr-run</b>: fusion.router.type=msr training.epochs=2</li>");
  });

  it("`sdfn compare` prints the best evaluations and says so", async () => {
    const r = await sdfn("compare", msr, shared);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^msr-run\s+1\s+31\.0 \*\s+30\.0 \*$/m);
    expect(r.out).toMatch(/^shared-run\s+1\s+26\.0\s+25\.0$/m);
    expect(r.out).toContain("each run's best evaluation (its best checkpoint's)");
  });
});
