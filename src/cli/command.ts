// What every `sdfn` subcommand provides, declared once: `defineCommand(spec)` turns
// one spec (usage, description, options with their help, examples) into the
// command's parser and its `--help` text. main.ts holds the explicit table.
// A command file must stay light at import time (main imports every command to
// list them): import heavy modules (tfjs, the trainer, Ink) inside `run`.
import { parseArgs } from "node:util";
import { UsageError } from "../util/errors.js";

export interface Command {
  name: string;
  /** One line for `sdfn --help`. */
  summary: string;
  /** Full text for `sdfn NAME --help`: usage line, options, an example. */
  help: string;
  /** Returns the exit code: 0 ok, 1 failure while running, 2 invalid input. */
  run(argv: string[]): Promise<number>;
}

// A user mistake on the command line (src/util/errors.ts): printed without a stack trace, exit code 2.
export { UsageError };

/** One option of a command: how it parses and what its help says. */
export interface OptionSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  /** The value's name in the help (string options), e.g. "DIR" or "KEY=VALUE". */
  arg?: string;
  /** What it does; further lines after "\n" are indented under the first. */
  help: string;
}
export type OptionSpecs = Record<string, OptionSpec>;

/** The parsed command line of a spec's options (named through node's own parseArgs, so declaration files can spell it). */
export type ParsedArgs<O extends ParseSpecs> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

export interface CommandSpec<O extends OptionSpecs> {
  name: string;
  /** One line for `sdfn --help`. */
  summary: string;
  /** What follows `sdfn NAME` on the usage line; several entries give several usage lines. */
  usage: string | string[];
  /** Paragraphs after the usage line. */
  description: string;
  /** Help for the positional arguments ("Arguments:"), when they need more than the usage line. */
  arguments?: Record<string, string>;
  options: O;
  /** Text after the options (exit codes, notes). */
  notes?: string;
  examples: string[];
  run(args: ParsedArgs<O>): Promise<number>;
}

// Options several commands share; a command may spread one and change its help.
export const SET_OPTION = {
  type: "string",
  multiple: true,
  arg: "KEY=VALUE",
  help: "override a recipe value (parsed as YAML), e.g. --set training.epochs=2. Repeatable.",
} as const satisfies OptionSpec;
export const PLUGIN_OPTION = {
  type: "string",
  multiple: true,
  arg: "FILE",
  help: "load a plugin (.ts/.js, relative to the working directory). Repeatable.",
} as const satisfies OptionSpec;
export const BACKEND_OPTION = {
  type: "string",
  arg: "NAME",
  help: "auto | cpu | torch | wasm | tensorflow | webgpu (default: the recipe's)",
} as const satisfies OptionSpec;
export const JSON_OPTION = { type: "boolean", help: "print JSON instead" } as const satisfies OptionSpec;
export const NO_PLUGINS_OPTION = {
  type: "boolean",
  help: "run no plugin file (a recipe you do not trust): names its plugins would register are then unknown",
} as const satisfies OptionSpec;
export const ALLOW_OUTSIDE_ROOT_OPTION = {
  type: "boolean",
  help: "let data paths leave data.root (recipe paths such as data.captions_file, image paths in list files)",
} as const satisfies OptionSpec;

/** --plugin files and --no-plugins as loadRecipe takes them; giving both is a contradiction. */
export function pluginFlags(values: { plugin?: string[]; "no-plugins"?: boolean }): { plugins: string[]; noPlugins: boolean } {
  const noPlugins = values["no-plugins"] ?? false;
  if (noPlugins && values.plugin?.length) throw new UsageError("--plugin and --no-plugins contradict each other: give one of them");
  return { plugins: noPlugins ? [] : (values.plugin ?? []), noPlugins };
}

/** What the parser reads of an option (help-less specs still parse: `arg` and `help` are for --help). */
type ParseSpecs = Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;

// node's parseArgs ignores the keys it does not know (arg, help), so a spec is its own parser config.
const parseArgsOf = <O extends ParseSpecs>(argv: string[], options: O): ParsedArgs<O> =>
  parseArgs({ args: argv, options, allowPositionals: true, strict: true });

/**
 * Parses `argv` for a command: options per `spec`, the rest positional. An
 * unknown option or a missing value is a UsageError naming the command.
 */
export function parseCommandArgs<O extends ParseSpecs>(command: string, argv: string[], options: O): ParsedArgs<O> {
  try {
    return parseArgsOf(argv, options);
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(`${command}: ${message} (see sdfn ${command} --help)`);
  }
}

/** The `--help` text of a spec: usage, description, arguments, options, notes, examples. */
export function formatHelp(spec: CommandSpec<OptionSpecs>): string {
  const usages = Array.isArray(spec.usage) ? spec.usage : [spec.usage];
  const out = [usages.map((u, i) => `${i === 0 ? "Usage:" : "      "} sdfn ${spec.name}${u ? ` ${u}` : ""}`).join("\n"), "", spec.description.trim()];
  const table = (rows: [string, string][]) => {
    const width = Math.max(...rows.map(([left]) => left.length)) + 3;
    return rows.map(([left, text]) => `  ${left.padEnd(width)}${text.split("\n").join(`\n  ${" ".repeat(width)}`)}`).join("\n");
  };
  if (spec.arguments) out.push("", "Arguments:", table(Object.entries(spec.arguments)));
  const options = Object.entries(spec.options).map(([name, o]): [string, string] => {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` ${o.arg ?? "VALUE"}` : ""}`;
    return [flag, o.help];
  });
  if (options.length) out.push("", "Options:", table(options));
  if (spec.notes) out.push("", spec.notes.trim());
  out.push("", spec.examples.length > 1 ? "Examples:" : "Example:", ...spec.examples.map((e) => `  ${e}`));
  return `${out.join("\n")}\n`;
}

/** A command from its spec: `help` generated, `run` parses argv (usage errors name the command) and runs. */
export function defineCommand<O extends OptionSpecs>(spec: CommandSpec<O>): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    help: formatHelp(spec as unknown as CommandSpec<OptionSpecs>),
    run: (argv) => spec.run(parseCommandArgs(spec.name, argv, spec.options)),
  };
}
