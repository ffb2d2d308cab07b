// File-system errors that name their path: Node's own say `ENOSPC: no space left on device, write`
// without the file. `withPath` rethrows any fs error as an IoError naming what was being done to what.
const REASONS: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exceeded",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  EISDIR: "it is a directory",
  ENOTDIR: "a part of the path is not a directory",
  EMFILE: "too many open files",
  EIO: "an input/output error of the device",
};

/** An fs failure on `path`: the message says what was being done, to which path, and why. */
export class IoError extends Error {
  override name = "IoError";
  constructor(
    readonly path: string,
    readonly action: string,
    readonly code: string | undefined,
    cause: unknown,
  ) {
    const why = (code && REASONS[code]) ?? (cause instanceof Error ? cause.message : String(cause));
    super(`cannot ${action} ${path}: ${why}${code ? ` (${code})` : ""}`);
  }
}

/** Runs `fn` (an fs operation on `path`); an fs error becomes an IoError naming `action` and `path`. */
export function withPath<T>(path: string, action: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof IoError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code !== "string") throw err;
    throw new IoError(path, action, code, err);
  }
}
