// bf16 against fp32 on a 200-step quickstart (torch backend): the test recall of each and the
// difference, plus the wall time (a ratio on the same machine in the same run).
//   npx tsx bench/precision.ts [--steps-pairs 3200] [--epochs 2] [--device cpu|cuda] [--json]
// 3200 pairs × 2 epochs at batch 32 = 200 steps. Each precision runs `sdfn build` in its own process.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    pairs: { type: "string", default: "3200" },
    epochs: { type: "string", default: "2" },
    device: { type: "string" },
    json: { type: "boolean", default: false },
  },
});

interface Row {
  precision: string;
  wall_s: number;
  recall: Record<string, number> | null;
  error?: string;
}

function run(precision: "fp32" | "bf16", dir: string): Row {
  const sets = ["backend=torch", `training.precision=${precision}`, `data.train_pairs=${values.pairs}`, `training.epochs=${values.epochs}`, `training.eval_every=${values.epochs}`];
  const env = { ...process.env, CI: "true", ...(values.device ? { SDFN_TORCH_DEVICE: values.device } : {}) };
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, "bin/sdfn.js"), "build", "recipes/quickstart.yaml", "--out", join(dir, precision), ...sets.flatMap((s) => ["--set", s])], { cwd: ROOT, env, encoding: "utf8" });
  const wall_s = +((performance.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) return { precision, wall_s, recall: null, error: (r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ") };
  const summary = JSON.parse(readFileSync(join(dir, precision, "summary.json"), "utf8")) as { recall: Record<string, number> };
  return { precision, wall_s, recall: summary.recall };
}

const dir = mkdtempSync(join(tmpdir(), "sdfn-precision-"));
try {
  const rows = [run("fp32", dir), run("bf16", dir)];
  const [fp32, bf16] = rows;
  const delta = fp32!.recall && bf16!.recall ? Object.fromEntries(Object.keys(fp32!.recall).map((k) => [k, +(bf16!.recall![k]! - fp32!.recall![k]!).toFixed(2)])) : null;
  const steps = (Number(values.pairs) / 32) * Number(values.epochs);
  if (values.json) console.log(JSON.stringify({ steps, rows, bf16_minus_fp32: delta }, null, 2));
  else {
    console.log(`quickstart, ${steps} steps (${values.pairs} pairs × ${values.epochs} epochs), torch backend${values.device ? ` on ${values.device}` : ""}:`);
    for (const r of rows) console.log(`  ${r.precision}: ${r.wall_s} s, ${r.recall ? JSON.stringify(r.recall) : `failed: ${r.error}`}`);
    if (delta) console.log(`  bf16 − fp32 (points): ${JSON.stringify(delta)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
