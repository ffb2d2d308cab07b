// The pure parts of data-parallel training (no addon needed): gradient buckets, the deal of
// evaluation batches, the torchrun environment, the per-rank slice of the shard, the dashboard line,
// the distillation cache's exchange of records between ranks.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { shareTeacher } from "../../src/dist/cache.js";
import type { DistGroup } from "../../src/dist/group.js";
import type { Network } from "../../src/graph/compile.js";
import type { NamedLoss } from "../../src/train/step.js";
import { createTeacher } from "../../src/train/teacher.js";
import { formatRanks } from "../../src/cli/render/lines.js";
import { distEnv, DistEnvError } from "../../src/dist/env.js";
import { batchesOf } from "../../src/dist/eval.js";
import { buckets } from "../../src/dist/sync.js";

describe("data-parallel helpers", () => {
  it("cuts gradients into consecutive buckets of at least the cap (float32 bytes)", () => {
    const sizes: Record<string, number> = { a: 10, b: 300, c: 5, d: 5, e: 1000 };
    // cap 1 KiB = 256 floats: a+b (310) closes the first bucket, c+d+e the second
    expect(buckets(Object.keys(sizes), (n) => sizes[n]!, 1024)).toEqual([["a", "b"], ["c", "d", "e"]]);
    expect(buckets(["x"], () => 1, 1 << 20)).toEqual([["x"]]);
    expect(buckets([], () => 1, 8)).toEqual([]);
  });

  it("deals evaluation batches round-robin and covers every item once", () => {
    // 10 items in batches of 3: [0,3) [3,6) [6,9) [9,10)
    expect(batchesOf(10, 3, 0, 2)).toEqual([[0, 3], [6, 9]]);
    expect(batchesOf(10, 3, 1, 2)).toEqual([[3, 6], [9, 10]]);
    expect(batchesOf(2, 3, 1, 2)).toEqual([]); // a rank may get nothing
  });

  it("reads the torchrun environment and rejects a malformed one", () => {
    expect(distEnv({})).toBeNull();
    expect(distEnv({ WORLD_SIZE: "1", RANK: "0" })).toBeNull();
    expect(distEnv({ WORLD_SIZE: "4", RANK: "3", MASTER_ADDR: "10.0.0.1", MASTER_PORT: "29500", LOCAL_RANK: "1" })).toEqual({
      rank: 3,
      world: 4,
      localRank: 1,
      masterAddr: "10.0.0.1",
      masterPort: 29500,
    });
    expect(() => distEnv({ WORLD_SIZE: "2", RANK: "2", MASTER_ADDR: "h", MASTER_PORT: "1" })).toThrow(/RANK=2 is not below WORLD_SIZE=2/);
    expect(() => distEnv({ WORLD_SIZE: "2", RANK: "0", MASTER_PORT: "1" })).toThrow(DistEnvError);
    expect(() => distEnv({ WORLD_SIZE: "2", RANK: "0", MASTER_ADDR: "h", MASTER_PORT: "70000" })).toThrow(/TCP port/);
  });

  it("shows the world size and the slowest rank on a step line", () => {
    const step = { type: "step" as const, time: 0, epoch: 0, step: 0, epochStep: 0, stepsPerEpoch: 1, losses: {}, total: 0, lr: 0, samplesPerSec: 1, routing: [] as number[][] };
    expect(formatRanks(step)).toBe("");
    expect(formatRanks({ ...step, world: 2, slowestStepMs: 123.4, slowestRank: 1 })).toBe("2 ranks · slowest 123 ms (rank 1)");
  });

  it("shares the distillation cache's records: this rank's own (read back) go out, the other rank's come in at the hand-over", async () => {
    await tf.setBackend("cpu");
    // 2 layers × 2 modules: 6 values a record; this is rank 0 of 2 over 4 training pairs
    const net = { layers: [[0, 1], [0, 1]] } as unknown as Network;
    const losses = [{ name: "path_distillation", loss: { teacher: "cache" } }] as unknown as NamedLoss[];
    const sent: Float32Array[] = [];
    const other = Float32Array.from([2, 1, 1, 1, 1, 1, 1, 3, 2, 2, 2, 2, 2, 2]); // rank 1 recorded samples 2 and 3
    const group = { rank: 0, world: 2, allgather: (mine: Float32Array) => (sent.push(mine), [mine, other]) } as unknown as DistGroup;
    const teacher = shareTeacher(createTeacher(losses, net, 4, () => net), group, 6);
    const step = teacher.forBatch({ ids: [1, 0] })!;
    step.write!(tf.tensor2d([[0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [0.25, 0.75, 0.25, 0.75, 0.25, 0.75]]));
    step.dispose();
    teacher.advance(net);
    expect(Array.from(sent[0]!)).toEqual([1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75]);
    const saved = (await teacher.save()) as Record<string, { data: ArrayLike<number> }>;
    expect(Array.from(saved["spd.previous.ids"]!.data)).toEqual([0, 1, 2, 3]);
    expect(Array.from(saved["spd.previous.values"]!.data).slice(12)).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
    expect(sent).toHaveLength(2); // the save shares again: nothing new of this rank's
    expect(sent[1]!.length).toBe(0);
    teacher.dispose();
  });
});
