// Free space before training: a run that cannot write its checkpoints fails only when the
// first one is due (maybe hours in). The lock file's probe write finds a read-only or full
// disk; this finds one too small for the checkpoints, with the path and the bytes needed.
import { statfsSync } from "node:fs";
import { UserError } from "../util/errors.js";

/** What `fs.statfsSync` gives (free blocks for unprivileged users, block size); injectable for tests. */
export type StatFs = (path: string) => { bavail: number | bigint; bsize: number | bigint };

/** Too little free space for the run's checkpoints: exit code 2, nothing trained. */
export class DiskSpaceError extends UserError {}

/**
 * Bytes a run's checkpoints need at once: "last" holds the weights (float32, every variable)
 * and the resume state (optimizer moments: at most 2 per trainable value), "best" the weights;
 * each previous unit stays until the next one is complete, so twice that. Each tensor also
 * costs its safetensors header entry (its name and about 80 bytes).
 */
export function checkpointBytes(variables: Iterable<[name: string, v: { size: number; trainable: boolean }]>): number {
  let weights = 0;
  let state = 0;
  for (const [name, v] of variables) {
    weights += 4 * v.size + name.length + HEADER_ENTRY;
    if (v.trainable) state += 2 * (4 * v.size + name.length + HEADER_ENTRY + "optimizer..m".length);
  }
  return 2 * (2 * weights + state);
}

const HEADER_ENTRY = 80;

/** Refuses `dir` when its file system has fewer than `needed` bytes free (not checked where statfs is unsupported). */
export function checkFreeSpace(dir: string, needed: number, statfs: StatFs = statfsSync): void {
  let free: number;
  try {
    const s = statfs(dir);
    free = Number(s.bavail) * Number(s.bsize);
  } catch {
    return; // no statfs here (or it failed): the probe write and the checkpoint's own IoError remain
  }
  if (free >= needed) return;
  throw new DiskSpaceError(
    `${dir}: only ${mib(free)} free on its file system; this run's checkpoints need about ${mib(needed)} (${needed} bytes: ` +
      `weights and optimizer state, kept twice while the next checkpoint is written); free some space or choose another --out DIR`,
  );
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
