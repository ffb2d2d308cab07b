// Pretrained files an encoder's params name (ImageNet weights, GloVe): how their problems
// reach the user (naming the recipe key, exit 2) and the record a run keeps of them.
import { IoError } from "../io/io-error.js";
import { StateDictError } from "../io/state-dict.js";
import type { PretrainedSource } from "../registry/kinds.js";
import { UserError } from "../util/errors.js";

/** A pretrained file that is missing or unreadable, or does not fit the encoder; `at` adds the recipe key. */
export class PretrainedFileError extends UserError {
  override name = "PretrainedFileError";
  constructor(
    readonly param: string,
    readonly detail: string,
  ) {
    super(`${param}: ${detail}`);
  }
  /** The same problem named by its recipe key, e.g. encoders.image.weights. */
  at(where: string): PretrainedFileError {
    const err = new PretrainedFileError(this.param, this.detail);
    err.message = `${where}.${this.param}: ${this.detail}`;
    return err;
  }
}

/** Runs `read` on `file`; a format problem or an unreadable file becomes a PretrainedFileError of `param`. */
export function readPretrained<T>(param: string, file: string, read: (file: string) => T): T {
  try {
    return read(file);
  } catch (err) {
    if (err instanceof PretrainedFileError) throw err;
    if (err instanceof StateDictError) throw new PretrainedFileError(param, err.message);
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === "string") throw new PretrainedFileError(param, new IoError(file, "read", code, err).message);
    throw err;
  }
}

export type { PretrainedSource };
