// Runs the PyTorch reference's encoders (bench/reference/encoder_check.py) with Debian's PyTorch on a safetensors file.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensors, writeSafetensors, type SafeTensor } from "../../src/io/safetensors.js";
import { PYTHON } from "../support/requires.js";

const SCRIPT = fileURLToPath(new URL("../../bench/reference/encoder_check.py", import.meta.url));

export const tempDir = () => mkdtempSync(join(tmpdir(), "sdfn-enc-"));

export function torchReference(
  args: [string, string],
  tensors: Record<string, SafeTensor | { shape: number[]; data: Float32Array | Int32Array }>,
): Record<string, SafeTensor> {
  const dir = tempDir();
  const src = join(dir, "in.safetensors");
  const dst = join(dir, "out.safetensors");
  writeSafetensors(src, tensors);
  execFileSync(PYTHON, [SCRIPT, ...args, src, dst], { stdio: ["ignore", "ignore", "pipe"] });
  return readSafetensors(dst).tensors;
}

/** max |a − b| / max |b|: a scale-free error for deep stacks. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 1e-12;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return err / scale;
}
