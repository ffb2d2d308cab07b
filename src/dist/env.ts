// Where this process stands in a data-parallel job, read from the torchrun-style environment
// (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) that `sdfn build --nproc N`, torchrun
// and Slurm wrappers set. No RANK/WORLD_SIZE, or WORLD_SIZE=1: a single-process run.

export interface DistEnv {
  rank: number;
  world: number;
  localRank: number;
  masterAddr: string;
  masterPort: number;
}

/** Thrown for a malformed environment (exit 2: bad input, nothing ran). */
export class DistEnvError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, min: number, fallback?: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") {
    if (fallback !== undefined) return fallback;
    throw new DistEnvError(`${name} is not set; a distributed run needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT`);
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new DistEnvError(`${name}=${raw}: expected an integer ≥ ${min}`);
  return value;
}

/** The job this process belongs to, or null when it runs alone. */
export function distEnv(env: NodeJS.ProcessEnv = process.env): DistEnv | null {
  if (env.WORLD_SIZE === undefined && env.RANK === undefined) return null;
  const world = integer(env, "WORLD_SIZE", 1);
  if (world === 1) return null;
  const rank = integer(env, "RANK", 0);
  if (rank >= world) throw new DistEnvError(`RANK=${rank} is not below WORLD_SIZE=${world}`);
  const masterPort = integer(env, "MASTER_PORT", 1);
  if (masterPort > 65535) throw new DistEnvError(`MASTER_PORT=${masterPort}: expected a TCP port (1-65535)`);
  const masterAddr = env.MASTER_ADDR;
  if (!masterAddr) throw new DistEnvError("MASTER_ADDR is not set; give rank 0's address (127.0.0.1 on one machine)");
  return { rank, world, localRank: integer(env, "LOCAL_RANK", 0, rank), masterAddr, masterPort };
}

/** The environment a launcher gives worker `rank` of `world` (on top of its own). */
export function workerEnv(base: DistEnv, rank: number): Record<string, string> {
  return {
    RANK: String(rank),
    WORLD_SIZE: String(base.world),
    LOCAL_RANK: String(rank),
    MASTER_ADDR: base.masterAddr,
    MASTER_PORT: String(base.masterPort),
  };
}
