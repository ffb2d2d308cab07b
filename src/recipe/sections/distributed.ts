// `training.distributed:` — data-parallel training over PyTorch's c10d (src/dist): how the ranks
// talk. How many ranks there are is not a recipe value: `sdfn build --nproc N` or the
// torchrun-style environment (RANK, WORLD_SIZE, ...) decides, so one recipe runs at any scale.
import { z } from "zod";

export const distributedSection = () =>
  z
    .strictObject({
      backend: z
        .enum(["auto", "gloo", "nccl"])
        .default("auto")
        .describe("Collective backend: gloo (CPU tensors, or CUDA ones staged through the host), nccl (CUDA builds with NCCL), auto (nccl on CUDA when built in, else gloo)."),
      bucket_mb: z
        .number()
        .positive()
        .default(25)
        .describe("Gradients are averaged in buckets of about this many MiB, one allreduce each (PyTorch DDP's bucket_cap_mb)."),
      timeout_s: z
        .number()
        .positive()
        .default(300)
        .describe("A collective that waits longer than this for another rank fails the whole job (a hung or lost rank)."),
    })
    .describe("Multi-process training: used only when the run has several ranks (sdfn build --nproc N, or RANK/WORLD_SIZE set).");
