// A c10d process group (native/src/dist.cc) seen from TypeScript: joining it, the tensor
// collectives as torch-backend kernels (DistAllreduce, DistBroadcast: one native call each, no
// readback, recordable like any kernel) and the small host-side collectives of the trainer.
import * as tf from "@tensorflow/tfjs";
import type { TensorInfo } from "@tensorflow/tfjs";
import type { TorchBackend } from "../backend/torch/backend.js";
import type { DistEnv } from "./env.js";
import { distAddon as addon, type CollectiveBackend, type DistAddon } from "./native.js";

export type { CollectiveBackend } from "./native.js";

/** The collective backend for `wanted` on `device`: auto → nccl on CUDA when built in, else gloo. */
export function chooseCollective(wanted: "auto" | CollectiveBackend, device: string): CollectiveBackend {
  const have = (addon().distInfo?.().backends ?? "").split(",");
  const choice = wanted === "auto" ? (device.startsWith("cuda") && have.includes("nccl") ? "nccl" : "gloo") : wanted;
  if (!have.includes(choice)) throw new Error(`training.distributed.backend: ${choice} is not in this build of the addon (it has ${have.join(", ")})`);
  return choice;
}

let kernelsRegistered = false;

/** tfjs kernels of the torch backend over the native collectives (registered once). */
function registerKernels(): void {
  if (kernelsRegistered) return;
  kernelsRegistered = true;
  for (const [kernelName, attr] of [["DistAllreduce", "mean"], ["DistBroadcast", "root"]] as const) {
    tf.registerKernel({
      kernelName,
      backendName: "torch",
      kernelFunc: ({ inputs, backend, attrs }) =>
        (backend as TorchBackend).exec(kernelName, inputs as unknown as TensorInfo[], [Number((attrs as Record<string, number>)[attr])]),
    });
  }
}

/** Totals of the native collectives since joining (for bench/ and the dashboard). */
export interface CollectiveStats {
  collectives: number;
  bytes: number;
  seconds: number;
}

/** This process's membership of a job. Collectives must be called by every rank in the same order. */
export class DistGroup {
  private constructor(
    readonly rank: number,
    readonly world: number,
    readonly backend: CollectiveBackend,
    private readonly native: DistAddon,
  ) {}

  /** Joins the job (blocks until every rank has connected, at most `timeoutMs`). */
  static join(env: DistEnv, opts: { backend: CollectiveBackend; timeoutMs: number; device: string }): DistGroup {
    if (tf.getBackend() !== "torch") {
      throw new Error(`distributed training needs backend torch (this run uses ${tf.getBackend()}); set backend: torch or --backend torch`);
    }
    const native = addon();
    registerKernels();
    native.distInit(env.rank, env.world, env.masterAddr, env.masterPort, opts.backend, opts.timeoutMs, opts.device);
    return new DistGroup(env.rank, env.world, opts.backend, native);
  }

  /** Mean over the ranks of each tensor, in one collective: new tensors (the inputs are kept). */
  allreduceMean(tensors: readonly tf.Tensor[]): tf.Tensor[] {
    if (tensors.length === 0) return [];
    return tf.engine().runKernel("DistAllreduce", tensors as unknown as tf.NamedTensorMap, { mean: 1 }) as unknown as tf.Tensor[];
  }

  /** Rank `root`'s values of each tensor, in one collective. */
  broadcast(tensors: readonly tf.Tensor[], root = 0): tf.Tensor[] {
    if (tensors.length === 0) return [];
    return tf.engine().runKernel("DistBroadcast", tensors as unknown as tf.NamedTensorMap, { root }) as unknown as tf.Tensor[];
  }

  /** Sum over the ranks, in place. */
  sumHost(values: Float32Array): Float32Array {
    this.native.distAllreduceHost(values);
    return values;
  }

  /** True on every rank when `flag` is true on any rank (e.g. a stop request). */
  anyRank(flag: boolean): boolean {
    return this.sumHost(Float32Array.of(flag ? 1 : 0))[0]! > 0;
  }

  /** Every rank's `values`, in rank order (lengths may differ). */
  allgather(values: Float32Array): Float32Array[] {
    // One leading element: Gloo must never see an all-empty exchange (it divides by the size).
    const framed = new Float32Array(values.length + 1);
    framed.set(values, 1);
    return this.native.distAllgather(framed).map((part) => part.subarray(1));
  }

  barrier(): void {
    this.native.distBarrier();
  }

  stats(): CollectiveStats {
    const { collectives, bytes, seconds } = this.native.distStats();
    return { collectives, bytes, seconds };
  }

  /** Leaves the job: a last barrier (so rank 0's store outlives every peer), then the group is freed. */
  leave(): void {
    try {
      this.native.distBarrier();
    } finally {
      this.native.distDestroy();
    }
  }
}
