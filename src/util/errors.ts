// The one kind of error that is the user's to fix (a recipe value, a data file, a
// flag, a run directory): the CLI prints its message without a stack trace and
// exits 2. Library code throws subclasses (DataError, UsageError, RegistryError, …).

/** Bad input: the message says where, what and how to fix it; exit code 2. */
export class UserError extends Error {
  readonly exitCode = 2;
}

/** A mistake in a command's arguments (a flag, a value, a path it names). */
export class UsageError extends UserError {}
