// The self-path-distillation cache across ranks. Each epoch deals the samples to the ranks
// anew, so no rank owns a sample for good: each rank records its own samples' paths during
// the epoch (no communication in the step), and the records are gathered into every rank's
// cache before the epoch hands them over as teachers and before a checkpoint. One allgather
// of (ids, paths) per epoch: ~4 bytes × (1 + path width) per training sample.
import type { PathCache } from "../train/path-cache.js";
import type { DistGroup } from "./group.js";

/** Merges every rank's `current` records into each rank's cache (all ranks call it together). */
export function gatherCurrent(group: DistGroup, cache: PathCache): void {
  const w = cache.width;
  const ids = [...cache.current.keys()];
  const packed = new Float32Array(ids.length * (1 + w));
  ids.forEach((id, i) => {
    packed[i * (1 + w)] = id; // sample ids are small integers: exact in float32 below 2^24
    packed.set(cache.current.get(id)!, i * (1 + w) + 1);
  });
  for (const part of group.allgather(packed)) {
    for (let at = 0; at < part.length; at += 1 + w) cache.current.set(part[at]!, part.slice(at + 1, at + 1 + w));
  }
}
