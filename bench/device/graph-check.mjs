#!/usr/bin/env node
// training.cuda_graph on the GPU machine (bench/device/run.sh, stage cuda-graph): the tiny recipe
// (dropout off: a graph draws its dropout masks from one stream per step, plain replays per mask)
// trained eagerly, replayed plainly and replayed as CUDA graphs. Per-step losses must agree to
// 1e-5; the steady step time of each (the last epoch's seconds over its steps) is reported.
// Usage: node bench/device/graph-check.mjs OUT.json EAGER_DIR REPLAY_DIR GRAPH_DIR GRAPH_LOG
import { readFileSync, writeFileSync } from "node:fs";

const [out, eagerDir, replayDir, graphDir, graphLog] = process.argv.slice(2);
const events = (dir) =>
  readFileSync(`${dir}/metrics.jsonl`, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
const runs = { eager: events(eagerDir), replay: events(replayDir), graph: events(graphDir) };
const steps = (run) => run.filter((e) => e.type === "step");

/** Largest |a − b| / max(1, |a|) over every loss of every step (Infinity when the runs differ in steps). */
function lossDifference(a, b) {
  const sa = steps(a);
  const sb = steps(b);
  if (sa.length !== sb.length || sa.length === 0) return Infinity;
  let worst = 0;
  sa.forEach((s, k) => {
    for (const [name, v] of Object.entries(s.losses)) worst = Math.max(worst, Math.abs(sb[k].losses[name] - v) / Math.max(1, Math.abs(v)));
  });
  return worst;
}

function stepMs(run) {
  const last = run.filter((e) => e.type === "epoch").at(-1);
  const n = steps(run).filter((s) => s.epoch === last?.epoch).length;
  return last && n ? +((1000 * last.seconds) / n).toFixed(3) : null;
}

const log = (() => {
  try {
    return readFileSync(graphLog, "utf8");
  } catch {
    return "";
  }
})();
const warnings = runs.graph.filter((e) => e.type === "warning").map((e) => e.message);
const captureFailed = /CUDA graph capture failed \(([^\n]*)\)/.exec(log)?.[1] ?? null;
const device = runs.graph.find((e) => e.type === "start")?.info?.device ?? null;
const result = {
  device,
  steps: steps(runs.eager).length,
  // graphs were on: a CUDA device, an addon built with them, no failed capture
  graph_used: /cuda/.test(String(device)) && !captureFailed && !warnings.some((w) => /cuda_graph/.test(w)),
  capture_failed: captureFailed,
  warnings,
  max_loss_difference: {
    replay_vs_eager: lossDifference(runs.eager, runs.replay),
    graph_vs_eager: lossDifference(runs.eager, runs.graph),
    graph_vs_replay: lossDifference(runs.replay, runs.graph),
  },
  step_ms: { eager: stepMs(runs.eager), replay: stepMs(runs.replay), graph: stepMs(runs.graph) },
  compiled: Object.fromEntries(["replay", "graph"].map((k) => [k, runs[k].filter((e) => e.type === "epoch").map((e) => e.compiled ?? null)])),
};
result.ok = Object.values(result.max_loss_difference).every((d) => d <= 1e-5);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log("cuda-graph", JSON.stringify({ ok: result.ok, graph_used: result.graph_used, ...result.max_loss_difference, step_ms: result.step_ms }));
process.exit(result.ok ? 0 : 1);
