// Continuing a run, checked in one place: whether a run directory's last checkpoint may be
// continued by this job (the recipe it was trained with, the number of processes), and whether the
// data is still the data it trained on. `sdfn build --resume` asks before it launches anything,
// train() before it trains; both read the checkpoint's metadata here.
import type { MissingImagesRecord } from "../data/missing-images.js";
import { readCheckpoint, readCheckpointMeta, type CheckpointMeta, type LoadedCheckpoint } from "./checkpoint.js";
import { RunDir, RunDirError } from "./run-dir.js";

/** What a resume must match: the hash of the recipe (with --set and plugins) and the job's process count. */
export interface ResumingJob {
  recipeHash: string;
  world: number;
}

/** Why this job may not continue `saved` (the recipe, the processes), or null. */
export function resumeProblem(saved: Pick<CheckpointMeta, "recipeHash" | "world">, job: ResumingJob, runDir: string): string | null {
  if (saved.recipeHash !== job.recipeHash) {
    return (
      `${runDir}: the run was trained with a different recipe (hash ${saved.recipeHash.slice(0, 12)}…, this one ${job.recipeHash.slice(0, 12)}…); ` +
      `give the same recipe and --set/--plugin options (\`sdfn build --resume ${runDir}\` alone uses the run's own), or start a new run`
    );
  }
  const was = saved.world ?? 1;
  if (was !== job.world) {
    return (
      `${runDir}: the run was trained with ${was} process(es), this job has ${job.world}; resume it with --nproc ${was} ` +
      `(or WORLD_SIZE=${was}): the global batch and the checkpoint's position are counted in ${was}-process steps`
    );
  }
  return null;
}

/**
 * The metadata of the last checkpoint `runDir` can be continued from (verified; a damaged one falls
 * back to its predecessor), or undefined when it has none (a run that stopped before its first
 * checkpoint starts afresh). A checkpoint this job may not continue is a RunDirError.
 */
export function resumableMeta(runDir: string, job: ResumingJob): CheckpointMeta | undefined {
  if (!new RunDir(runDir).hasCheckpoint("last")) return undefined;
  return checked(readCheckpointMeta(runDir, "last"), job, runDir);
}

/** The same checkpoint with its weights and resume state (what train() restores), or null. */
export function resumableCheckpoint(runDir: string, job: ResumingJob): LoadedCheckpoint | null {
  if (!new RunDir(runDir).hasCheckpoint("last")) return null;
  const loaded = readCheckpoint(runDir, "last");
  checked(loaded.meta, job, runDir);
  return loaded;
}

function checked(meta: CheckpointMeta, job: ResumingJob, runDir: string): CheckpointMeta {
  const problem = resumeProblem(meta, job, runDir);
  if (problem) throw new RunDirError(problem);
  return meta;
}

/**
 * A run with data.missing_images: skip resumes only on the images it started with: other images
 * would drop other pairs, and the distillation cache and the epoch's order key on the pairs.
 */
export function checkSameImages(meta: CheckpointMeta, now: MissingImagesRecord | undefined, runDir: string): void {
  const then = meta.missingImages;
  if ((then?.fingerprint ?? null) === (now?.fingerprint ?? null) || (!then && now?.missing === 0)) return;
  const count = (m: { missing: number } | undefined) => (m ? `${m.missing} missing (data.missing_images: skip)` : "none missing");
  throw new RunDirError(
    `${runDir}: the dataset's images changed since this run started (${count(then)} then, ${count(now)} now), so it would train on other pairs; ` +
      `resume with the images it started with, or start a new run`,
  );
}
