// A training run's membership of a data-parallel job, as the run layer (src/run/train.ts) sees
// it: join from the environment, make the loop data-parallel, check a resume, leave.
// Rank 0 is the leader: it alone writes the run directory.
import type { OpenDataset } from "../data/index.js";
import { compiledForward } from "../eval/compiled-forward.js";
import type { LoadedRecipe } from "../recipe/index.js";
import type { Session } from "../run/session.js";
import { pathWidth } from "../train/path-cache.js";
import type { TrainLoop } from "../train/trainer.js";
import { distEnv, type DistEnv } from "./env.js";
import { evaluateSharded } from "./eval.js";
import { chooseCollective, DistGroup } from "./group.js";
import { broadcastStore, distributeLoop } from "./loop.js";

export class DistJob {
  private constructor(
    readonly group: DistGroup,
    private readonly loaded: LoadedRecipe,
  ) {}

  /** Joins the job this process's environment names (RANK, WORLD_SIZE, …), or null when it runs alone. */
  static join(loaded: LoadedRecipe, device: string, env: DistEnv | null = distEnv()): DistJob | null {
    if (!env) return null;
    const d = loaded.recipe.training.distributed;
    const backend = chooseCollective(d.backend, device);
    // NCCL wants one GPU per rank: LOCAL_RANK picks it (SDFN_TORCH_DEVICE=cuda:N is set by the caller).
    return new DistJob(DistGroup.join(env, { backend, timeoutMs: d.timeout_s * 1000, device }), loaded);
  }

  get rank(): number {
    return this.group.rank;
  }
  get world(): number {
    return this.group.world;
  }
  /** Rank 0 writes the run directory, checkpoints, the report; the others only log. */
  get leader(): boolean {
    return this.group.rank === 0;
  }

  /** `loop` made data-parallel over the session's data; every rank starts from rank 0's weights. */
  distribute(loop: TrainLoop, session: Session): TrainLoop {
    const { recipe } = this.loaded;
    const dataset: OpenDataset = session.dataset;
    if (dataset.params.feature_cache) {
      throw new Error("data.feature_cache: cached backbone features are not supported with several processes yet; train with one process, or leave feature_cache empty");
    }
    broadcastStore(this.group, session.network.store);
    const net = session.network;
    const t = recipe.training;
    const shard = { rank: this.rank, world: this.world };
    // training.compile: each rank's slices of the evaluation forward are replayed natively (freed with the session)
    const forward = session.own(compiledForward(net, t.compile, (message) => loop.emit({ type: "warning", time: Date.now(), message }), t.text_bucket));
    return distributeLoop(loop, {
      group: this.group,
      bucketBytes: t.distributed.bucket_mb * 2 ** 20,
      pathWidth: pathWidth({ layers: net.layers.length, modules: net.layers[0]?.length ?? 0 }),
      // the loader skips a resumed epoch's first global batches undecoded, and gives no batch beyond the epoch's steps
      batches: (_epoch, shuffle, skip) => ({ batches: dataset.loader.trainBatches(dataset.train, t.batch_size, shuffle, { shard, skip, maxBatches: t.max_steps_per_epoch }), resumes: true }),
      evaluate: () =>
        evaluateSharded(this.group, forward ?? net, dataset.loader, dataset.evalSets, { ks: recipe.evaluation.recall_at, batchSize: recipe.evaluation.batch_size }),
    });
  }

  /** Leaves the job (a last barrier first, so no rank's peers vanish while it still talks). */
  leave(): void {
    this.group.leave();
  }
}
