// The self-path-distillation teacher across ranks. Each epoch deals the samples to the ranks
// anew, so no rank owns a sample for good: a rank records its own samples' paths during the
// epoch (on its device, no communication in the step), and the records are read back and gathered into every rank's cache
// before the epoch hands them over as teachers, and before a checkpoint (rank 0 then saves the
// whole cache, which a resume needs). One allgather per epoch of ~4 × (1 + path width) bytes
// per training sample; the teacher lookup stays local.
import type { Teacher } from "../train/teacher.js";
import type { DistGroup } from "./group.js";

export interface SharedTeacher extends Teacher {
  /** Gives every rank the paths the others recorded since the last share (all ranks call it together). */
  share(): void;
}

/** Packs records as [id, path…, id, path…] (ids are exact in float32 below 2^24). */
function pack(ids: readonly number[], paths: Float32Array, width: number): Float32Array {
  const out = new Float32Array(ids.length * (1 + width));
  ids.forEach((id, i) => {
    if (id >= 2 ** 24) throw new Error(`distributed path cache: sample id ${id} is too large to share`);
    out[i * (1 + width)] = id;
    out.set(paths.subarray(i * width, (i + 1) * width), i * (1 + width) + 1);
  });
  return out;
}

/** `inner` whose records (`width` values per sample, path-cache.ts pathWidth) are shared at `advance`, `save` and `share`. */
export function shareTeacher(inner: Teacher, group: DistGroup, width: number): SharedTeacher {
  let mine: number[] = []; // ids this rank's steps recorded since the last share
  const share = () => {
    if (inner.kind !== "cache") return;
    const parts = group.allgather(pack(mine, inner.recorded(mine), width));
    mine = [];
    parts.forEach((part, rank) => {
      if (rank === group.rank || part.length === 0) return;
      const n = part.length / (1 + width);
      const ids = Array.from({ length: n }, (_, i) => part[i * (1 + width)]!);
      const paths = new Float32Array(n * width);
      for (let i = 0; i < n; i++) paths.set(part.subarray(i * (1 + width) + 1, (i + 1) * (1 + width)), i * width);
      inner.insert(ids, paths);
    });
  };
  return {
    get kind() {
      return inner.kind;
    },
    forBatch(batch) {
      const teacher = inner.forBatch(batch);
      if (teacher?.write) mine.push(...batch.ids);
      return teacher;
    },
    recorded: (ids) => inner.recorded(ids),
    insert: (ids, paths) => inner.insert(ids, paths),
    advance(student) {
      share();
      inner.advance(student);
    },
    async save() {
      share();
      return inner.save();
    },
    load: (state, where, epoch) => inner.load(state, where, epoch),
    dispose: () => inner.dispose(),
    share,
  };
}
