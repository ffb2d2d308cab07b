// What every `sdfn` subcommand provides; main.ts holds the explicit table.
// A command file must stay light at import time (main imports every command to
// list them): import heavy modules (tfjs, the trainer, Ink) inside `run`.
import { parseArgs } from "node:util";

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

type OptionSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;

/**
 * Parses `argv` for a command: options per `spec`, the rest positional. An
 * unknown option or a missing value is a UsageError naming the command.
 */
export function parseCommandArgs<S extends OptionSpec>(command: string, argv: string[], spec: S) {
  try {
    return parseArgs({ args: argv, options: spec, allowPositionals: true, strict: true });
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(`${command}: ${message} (see sdfn ${command} --help)`);
  }
}
