// The distributed part of the native addon (native/src/dist.cc), and why it may be absent.
// Light on purpose (no tfjs): test skips and `sdfn doctor` ask it.
import { loadAddon } from "../backend/torch/native.js";

/** The functions native/src/dist.cc adds to the addon. */
export interface DistAddon {
  distInfo?(): { backends: string; why: string };
  distInit(rank: number, world: number, addr: string, port: number, backend: string, timeoutMs: number, device: string): void;
  distBarrier(): void;
  distAllreduceHost(values: Float32Array): void;
  distAllgather(values: Float32Array): Float32Array[];
  distStats(): { collectives: number; bytes: number; seconds: number };
  distDestroy(): void;
}

export type CollectiveBackend = "gloo" | "nccl";

/** Why this build cannot join a group (undefined when it can): for errors and test skips. */
export function distAbsence(): string | undefined {
  const loaded = loadAddon();
  if ("error" in loaded) return loaded.error;
  const info = (loaded.addon as unknown as Partial<DistAddon>).distInfo?.();
  if (!info) return "the native addon predates distributed training; rebuild it with `npm run build:native`";
  return info.backends ? undefined : info.why;
}

export function distAddon(): DistAddon {
  const why = distAbsence();
  if (why) throw new Error(`distributed training: ${why}`);
  return (loadAddon() as { addon: unknown }).addon as DistAddon;
}

