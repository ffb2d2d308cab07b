#!/usr/bin/env node
// The device run's summary (bench/device/run.sh): stage times, parity counts, the quickstart's
// wall time and recall, the step table (sdfn eager and replayed vs PyTorch, fp32 and bf16: ms per
// step, triplets/s, peak GPU memory by nvidia-smi and peak tensor memory: the caching allocator's
// peak, torch.cuda.max_memory_allocated for PyTorch) and the data pipeline, as $OUT/summary.md;
// the step rows as $OUT/step.json.
//   node bench/device/summarize.mjs WORK_DIR OUT_DIR
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [work, out] = process.argv.slice(2);
const read = (file) => {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
};
const fmt = (v, digits = 1) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "-");

/** Peak GPU memory in use during a row, above what was in use when it started (nvidia-smi samples). */
function peakMemory(file) {
  if (!existsSync(file)) return null;
  const mib = readFileSync(file, "utf8").split("\n").map(Number).filter((n) => Number.isFinite(n) && n > 0);
  return mib.length ? Math.max(...mib) - mib[0] : null;
}

const stages = existsSync(join(work, "stages.tsv"))
  ? readFileSync(join(work, "stages.tsv"), "utf8").trim().split("\n").filter(Boolean).map((l) => {
      const [name, rc, secs, limit] = l.split("\t");
      return { name, exit: rc === "skipped" ? "skipped" : Number(rc), seconds: Number(secs), limit_s: Number(limit) };
    })
  : [];

const rows = [];
for (const who of ["sdfn", "pytorch"]) {
  for (const precision of ["fp32", "bf16"]) {
    const result = read(join(work, `step-${who}-${precision}.json`));
    // (sdfn: the eager and the replayed row, one process each; nvidia-smi samples the file's whole run)
    const peak = peakMemory(join(work, `mem-${who}-${precision}.txt`));
    const found = result?.rows ?? [];
    if (found.length === 0) rows.push({ run: `${who} ${precision}`, precision, error: "no result (see run.log)" });
    for (const row of found) {
      rows.push({
        run: `${row.name} ${precision}`,
        precision,
        device: row.device,
        step_ms: row.step_ms,
        triplets_per_s: row.samples_per_s,
        peak_gpu_mib_nvidia_smi: peak,
        peak_tensor_mib: row.peak_tensor_mib,
        error: row.error ?? null,
      });
    }
  }
}
for (const r of rows) {
  const eager = rows.find((p) => p.run.startsWith("pytorch") && p.precision === r.precision);
  r.ratio_to_pytorch_same_precision = eager?.step_ms && r.step_ms ? r.step_ms / eager.step_ms : null;
}
const config = read(join(work, "step-sdfn-fp32.json"))?.config ?? read(join(work, "step-pytorch-fp32.json"))?.config ?? null;
writeFileSync(join(out, "step.json"), `${JSON.stringify({ config, rows }, null, 2)}\n`);

const parity = read(join(out, "parity.json"));
const quick = read(join(out, "quickstart.json"));
const data = read(join(out, "data-pipeline.json"));
const graph = read(join(out, "graph.json"));
const dist = read(join(work, "dist.json")); // in summary.md only: the 8 returned files are taken
const recall = quick?.summary ? JSON.stringify(quick.summary.recall ?? quick.summary.metrics ?? quick.summary).slice(0, 400) : "-";
const md = [
  "# sdfn device run",
  "",
  "| stage | exit | seconds | limit |",
  "| --- | --- | --- | --- |",
  ...stages.map((s) => `| ${s.name} | ${s.exit} | ${fmt(s.seconds)} | ${s.limit_s} |`),
  "",
  `parity (${parity?.device ?? "-"}): kernel cases ${parity ? `${parity.kernel_cases.passed}/${parity.kernel_cases.of}` : "-"}, ` +
    `reference cases ${parity ? `${parity.reference_cases.passed}/${parity.reference_cases.of}` : "-"}, ` +
    `unreached kernels ${parity?.unreached_kernels?.length ?? "-"}, cpu fallbacks ${parity ? Object.keys(parity.cpu_fallbacks).length : "-"}`,
  ...(parity?.failures ?? []).slice(0, 20).map((f) => `- FAILED ${f.name}: ${String(f.error).split("\n")[0]}`),
  "",
  `quickstart: exit ${quick?.exit_code ?? "-"}, wall ${fmt(quick?.wall_s)} s; summary: ${recall}`,
  "",
  config ? `step: ${config.encoder} ${config.imageSize} px, batch ${config.batch}, d ${config.dim}, ${config.steps} timed steps; ${config.machine}` : "step: no configuration recorded",
  "",
  "| run | device | ms/step | triplets/s | peak GPU MiB (nvidia-smi) | peak tensors MiB (max allocated) | × PyTorch (same precision) |",
  "| --- | --- | --- | --- | --- | --- | --- |",
  ...rows.map(
    (r) =>
      `| ${r.run} | ${r.device ?? "-"} | ${fmt(r.step_ms)} | ${fmt(r.triplets_per_s)} | ${fmt(r.peak_gpu_mib_nvidia_smi, 0)} | ${fmt(r.peak_tensor_mib, 0)} | ${fmt(r.ratio_to_pytorch_same_precision, 2)} |${r.error ? ` ${r.error}` : ""}`,
  ),
  "",
  graph
    ? `cuda graph (${graph.device}): ${graph.graph_used ? "used" : `not used${graph.capture_failed ? ` (capture failed: ${graph.capture_failed})` : ""}`}, ` +
      `max loss difference vs eager ${fmt(graph.max_loss_difference.graph_vs_eager, 8)} (plain replay ${fmt(graph.max_loss_difference.replay_vs_eager, 8)}) over ${graph.steps} steps, ` +
      `ms/step eager ${fmt(graph.step_ms.eager)} · replay ${fmt(graph.step_ms.replay)} · graph ${fmt(graph.step_ms.graph)}${graph.ok ? "" : " — FAILED (> 1e-5)"}`
    : "cuda graph: no result",
  "",
  data
    ? `data pipeline: ${data.decode.concurrent_images_per_s} img/s decoded on ${data.machine.cpus} cores (${data.decode.concurrent_images_per_s_per_core} per core, libuv pool ${data.machine.uv_threadpool}), JS thread ${data.decode.js_thread_ms_per_image} ms/img; ` +
      data.train_loop.map((l) => `prefetch ${l.prefetch}: waits ${l.wait_ms_per_later_step} ms/step${l.keeps_up ? " (keeps up)" : ""}`).join(", ")
    : "data pipeline: no result",
  "",
  dist
    ? `distributed (${dist.gloo.device ?? "-"}): gloo 2 processes × 4 vs 1 × 8, replayed ${dist.gloo.replayed?.two ?? "-"}/${dist.gloo.replayed?.one ?? "-"} steps, ` +
      `max weight difference ${fmt(dist.gloo.max_weight_difference, 8)}, allreduce ${fmt(dist.gloo.allreduce_ms_per_step)} ms/step for ${dist.gloo.allreduce_bytes_per_step ?? "-"} bytes${dist.gloo.ok ? "" : ` — FAILED${dist.gloo.error ? `: ${dist.gloo.error}` : ""}`}; ` +
      `nccl (world 1): ${dist.nccl.built ? (dist.nccl.ok ? `initialised, allreduce/allgather/barrier ran (${dist.nccl.collectives} collectives)` : `FAILED: ${dist.nccl.error ?? "wrong values"}`) : `not built (${dist.nccl.why})`}`
    : "distributed: no result",
  "",
].join("\n");
writeFileSync(join(out, "summary.md"), md);
process.stdout.write(md);
