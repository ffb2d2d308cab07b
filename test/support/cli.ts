// Running the sdfn CLI from tests: in this process (main(), stdout and stderr captured) or as
// a child process (`node bin/sdfn.js`, for what only a real process shows: exit codes of a
// crash, plugin loading, signals). One helper for every test instead of a copy per file.
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { vi } from "vitest";
import { main } from "../../src/cli/main.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const SDFN_BIN = join(ROOT, "bin", "sdfn.js");

export interface Ran {
  code: number;
  out: string;
  err: string;
}

/** `sdfn ARGV` in this process: its exit code and what it wrote to stdout and stderr (nothing reaches the terminal). */
export async function sdfn(...argv: string[]): Promise<Ran> {
  let out = "";
  let err = "";
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
  try {
    return { code: await main(argv), out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

/** `node bin/sdfn.js ARGV` as a child process (waits for it). */
export function sdfnProcess(argv: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Ran {
  const r = spawnSync(process.execPath, [SDFN_BIN, ...argv], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, encoding: "utf8" });
  return { code: r.status ?? 1, out: r.stdout, err: r.stderr };
}
