// A checkpoint is one unit: the directory checkpoints/TAG/ with its files and manifest.json
// (the SHA-256 and size of each). It is written complete under a temporary name, then swapped
// in (TAG → TAG.prev, new → TAG), so a crash or a full disk at any point leaves a complete
// checkpoint; the previous one stays as TAG.prev. Loading verifies every hash and falls back
// to TAG.prev (saying so) when TAG is missing or corrupt.
import { createHash } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withPath } from "../io/io-error.js";
import { ownedDir, tempPath } from "../io/owned-files.js";
import { UserError } from "../util/errors.js";
import { jsonErrorPlace } from "../util/json-file.js";

export const MANIFEST = "manifest.json";

interface Manifest {
  format: 1;
  files: Record<string, { bytes: number; sha256: string }>;
}

/** A corrupt or missing checkpoint (every candidate that was tried, each with its file and why, and what to do): exit code 2 wherever it is read. */
export class CheckpointError extends UserError {
  override name = "CheckpointError";
}

/** What to do about an unusable checkpoint TAG, for its error message. */
export const checkpointFix = (tag: string): string =>
  tag === "best"
    ? "restore the files, or use the last checkpoint (--checkpoint last)"
    : "restore the files, or start the run again in a new directory (sdfn build RECIPE --out NEW_DIR)";

const sha256 = (file: string) => createHash("sha256").update(withPath(file, "read", () => readFileSync(file))).digest("hex");

function fsyncDir(dir: string): void {
  const fd = withPath(dir, "open", () => openSync(dir, "r"));
  try {
    withPath(dir, "sync", () => fsyncSync(fd));
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes one checkpoint: `write(dir)` puts its files into a fresh temporary directory, the
 * manifest is added, and the directory replaces checkpoints/TAG (the old one becomes TAG.prev).
 * Returns the final directory. An error leaves TAG (or TAG.prev) as it was.
 */
export async function writeUnit(checkpoints: string, tag: string, write: (dir: string) => Promise<void>): Promise<string> {
  const final = join(checkpoints, tag);
  const prev = join(checkpoints, `${tag}.prev`);
  const tmp = tempPath(join(checkpoints, `.${tag}`)); // a killed writer's is removed when the run directory is next claimed
  ownedDir(checkpoints); // never through a link
  rmSync(tmp, { recursive: true, force: true });
  withPath(tmp, "create the directory", () => mkdirSync(tmp));
  try {
    await write(tmp);
    const manifest: Manifest = { format: 1, files: {} };
    for (const name of readdirSync(tmp).sort()) {
      const file = join(tmp, name);
      manifest.files[name] = { bytes: statSync(file).size, sha256: sha256(file) };
    }
    const manifestFile = join(tmp, MANIFEST);
    withPath(manifestFile, "write", () => writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`));
    fsyncDir(tmp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  // The swap: a crash between the two renames leaves TAG.prev complete (findUnit falls back to it).
  // Only a verified TAG becomes the fallback; a corrupt or incomplete one goes, keeping the older TAG.prev.
  if (existsSync(final) && verifyUnit(final) === undefined) {
    rmSync(prev, { recursive: true, force: true });
    withPath(prev, "rename to", () => renameSync(final, prev));
  } else {
    rmSync(final, { recursive: true, force: true });
  }
  withPath(final, "rename to", () => renameSync(tmp, final));
  fsyncDir(checkpoints);
  return final;
}

/** Why the unit in `dir` cannot be used (naming the file), or undefined when every hash matches. */
export function verifyUnit(dir: string): string | undefined {
  const manifestFile = join(dir, MANIFEST);
  if (!existsSync(manifestFile)) return existsSync(dir) ? `${manifestFile} is missing (the checkpoint was not completed)` : `${dir} does not exist`;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as Manifest;
  } catch (err) {
    return `${manifestFile}${jsonErrorPlace(readFileSync(manifestFile, "utf8"), (err as Error).message)}`;
  }
  for (const [name, want] of Object.entries(manifest.files ?? {})) {
    const file = join(dir, name);
    if (!existsSync(file)) return `${file} is missing`;
    const bytes = statSync(file).size;
    if (bytes !== want.bytes) return `${file} has ${bytes} bytes, the manifest says ${want.bytes} (truncated?)`;
    if (sha256(file) !== want.sha256) return `${file} is corrupt: its SHA-256 does not match the manifest`;
  }
  return undefined;
}

export interface FoundUnit {
  dir: string;
  /** Set when TAG itself was unusable and TAG.prev is used: why, for the user. */
  fellBack?: string;
}

/** The newest verified unit of TAG (TAG, else TAG.prev), or undefined when there is none at all; throws CheckpointError when all are corrupt. */
export function findUnit(checkpoints: string, tag: string): FoundUnit | undefined {
  const candidates = [join(checkpoints, tag), join(checkpoints, `${tag}.prev`)].filter((d) => existsSync(d));
  if (candidates.length === 0) return undefined;
  const reasons: string[] = [];
  for (const dir of candidates) {
    const why = verifyUnit(dir);
    if (!why) {
      const fellBack = reasons.length ? `the "${tag}" checkpoint is unusable (${reasons.join("; ")}); using the previous one, ${dir}` : undefined;
      return { dir, fellBack };
    }
    reasons.push(why);
  }
  throw new CheckpointError(`no usable "${tag}" checkpoint in ${checkpoints}: ${reasons.join("; ")}; ${checkpointFix(tag)}`);
}
