// A training loop (src/train/trainer.ts TrainLoop) made data-parallel: the step averages its
// gradients over the ranks, the batches are this rank's shard, the teacher cache is shared,
// evaluation is sharded, rank 0 alone writes checkpoints, and a stop (q, Ctrl-C, SIGTERM on
// any rank) is agreed so every rank stops after the same step with one checkpoint.
import * as tf from "@tensorflow/tfjs";
import type { TorchBackend } from "../backend/torch/backend.js";
import type { ParamStore } from "../nn/scope.js";
import type { TrainEvent } from "../train/events.js";
import type { TrainLoop } from "../train/trainer.js";
import { shareTeacher } from "./cache.js";
import type { DistGroup } from "./group.js";
import { gradientSync } from "./sync.js";

export interface DistParts {
  group: DistGroup;
  /** Gradient bucket size in bytes (training.distributed.bucket_mb). */
  bucketBytes: number;
  /** Values per sample of the path-distillation cache (path-cache.ts pathWidth). */
  pathWidth: number;
  /** This rank's shard of each epoch's batches. */
  batches: TrainLoop["batches"];
  /** The sharded evaluation (src/dist/eval.ts). */
  evaluate: TrainLoop["evaluate"];
}

/** Every variable of `store` set to rank 0's values (at the start, and for batch-norm statistics). */
export function broadcastStore(group: DistGroup, store: ParamStore, which: "all" | "buffers" = "all"): void {
  const vars = [...store.variables.values()].filter((v) => which === "all" || !v.trainable);
  if (vars.length === 0) return;
  const values = group.broadcast(vars);
  vars.forEach((v, i) => v.assign(values[i]!));
  for (const t of values) t.dispose();
}

/**
 * The stop decision of every rank: `aborted` is true on all ranks when any rank's own signal
 * is aborted. After a step it was agreed with that step's exchange (see `exchange`); any other
 * read is one collective, at the same point of the loop on every rank.
 */
class AgreedStop {
  private agreed = false;
  private fresh = false;
  constructor(
    private readonly group: DistGroup,
    private readonly local: AbortSignal | undefined,
  ) {}

  get aborted(): boolean {
    if (!this.agreed && !this.fresh) this.agreed = this.group.anyRank(this.local?.aborted ?? false);
    this.fresh = false;
    return this.agreed;
  }

  /** One allgather per step: [stop wanted, step seconds outside collectives] of every rank. */
  exchange(computeSeconds: number): { slowestMs: number; slowestRank: number } {
    const all = this.group.allgather(Float32Array.of(this.local?.aborted ? 1 : 0, computeSeconds));
    let slowestRank = 0;
    all.forEach((v, r) => {
      if (v[0]! > 0) this.agreed = true;
      if (v[1]! > all[slowestRank]![1]!) slowestRank = r;
    });
    this.fresh = true;
    return { slowestMs: 1000 * all[slowestRank]![1]!, slowestRank };
  }
}

/**
 * Replays with collectives run without CUDA graphs (training.cuda_graph): Gloo stages CUDA
 * tensors through the host, which a capture refuses, and NCCL capture is unverified here.
 */
function keepCollectivesOutOfGraphs(): void {
  if (tf.getBackend() === "torch") (tf.backend() as TorchBackend).native.addon.setCudaGraph?.(false);
}

/** `loop` over `parts.group`'s ranks. */
export function distributeLoop(loop: TrainLoop, parts: DistParts): TrainLoop {
  const { group } = parts;
  const teacher = shareTeacher(loop.teacher, group, parts.pathWidth);
  const stop = new AgreedStop(group, loop.signal);
  if (loop.step.compiled) keepCollectivesOutOfGraphs();
  let before = group.stats();
  let lastStep = performance.now();
  const emit = (event: TrainEvent) => {
    if (event.type === "step") {
      // The step's own time without its waits in collectives: the slowest rank is the straggler.
      const now = performance.now();
      const comm = group.stats();
      const waited = comm.seconds - before.seconds;
      const { slowestMs, slowestRank } = stop.exchange((now - lastStep) / 1000 - waited);
      event = {
        ...event,
        samplesPerSec: event.samplesPerSec * group.world,
        world: group.world,
        slowestStepMs: slowestMs,
        slowestRank,
        allreduceMs: 1000 * waited, // this step's gradient buckets (and any other collective), waits for slower ranks included
        allreduceBytes: comm.bytes - before.bytes,
      };
      before = group.stats();
      lastStep = performance.now();
    } else {
      if (event.type === "epoch") event = { ...event, samplesPerSec: event.samplesPerSec * group.world };
      if (event.type === "start") event = { ...event, info: { ...event.info, world: group.world } };
      lastStep = performance.now(); // evaluation and checkpoints are not part of the next step
    }
    loop.emit(event);
  };
  return {
    ...loop,
    // The sync runs inside the eager step, so a compiled step records its DistAllreduce kernels and
    // replays them natively against the live group: still one N-API call per step.
    step: { ...loop.step, sync: gradientSync(group, parts.bucketBytes) },
    teacher,
    batches: parts.batches,
    async evaluate() {
      broadcastStore(group, loop.network.store, "buffers"); // batch-norm statistics: rank 0's, as DDP's broadcast_buffers
      return parts.evaluate();
    },
    async checkpoint(tag, reason, position) {
      if (tag === "last") teacher.share();
      if (group.rank === 0) await loop.checkpoint(tag, reason, position);
    },
    emit,
    signal: stop as unknown as AbortSignal,
  };
}
