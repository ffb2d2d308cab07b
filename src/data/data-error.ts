// The error of every problem with a dataset's files or its `data:` section: the CLI prints
// its message without a stack trace and exits 2 (src/util/errors.ts).
import { UserError } from "../util/errors.js";

/** A problem with the data on disk or the data section: printed without a stack trace, exit code 2. */
export class DataError extends UserError {}
