// What every `sdfn` subcommand provides; main.ts holds the explicit table.

export interface Command {
  name: string;
  /** One line for `sdfn --help`. */
  summary: string;
  /** Full text for `sdfn NAME --help`: usage line, options, an example. */
  help: string;
  /** Returns the exit code: 0 ok, 1 failure while running, 2 invalid input. */
  run(argv: string[]): Promise<number>;
}

/** A user mistake: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}
