// `sdfn` entry: dispatches to the commands listed below (an explicit table).
// Only the named command is imported to run it; `sdfn --help` imports them all
// for their summaries, so command files keep heavy imports inside `run`.
import { readFileSync } from "node:fs";
import type { Command } from "./command.js";
import { IoError } from "../io/io-error.js";
import { UserError } from "../util/errors.js";
import { RecipeError } from "../recipe/problems.js";
import { closest } from "../recipe/suggest.js";

// Each command lives in ./commands/NAME.ts; add new ones to this list (the order of `sdfn --help`).
const loaders: Record<string, () => Promise<Command>> = {
  build: async () => (await import("./commands/build.js")).command,
  eval: async () => (await import("./commands/eval.js")).command,
  query: async () => (await import("./commands/query.js")).command,
  index: async () => (await import("./commands/catalogue-index.js")).command,
  serve: async () => (await import("./commands/serve.js")).command,
  export: async () => (await import("./commands/export.js")).command,
  validate: async () => (await import("./commands/validate.js")).command,
  render: async () => (await import("./commands/render.js")).command,
  modules: async () => (await import("./commands/modules.js")).command,
  schema: async () => (await import("./commands/schema.js")).command,
  data: async () => (await import("./commands/data.js")).command,
  report: async () => (await import("./commands/report.js")).command,
  sweep: async () => (await import("./commands/sweep.js")).command,
  compare: async () => (await import("./commands/compare.js")).command,
  doctor: async () => (await import("./commands/doctor.js")).command,
};

const usage = (commands: Command[]) =>
  [
    "sdfn — composed image retrieval from declarative recipes",
    "",
    "Usage: sdfn COMMAND [options]     (sdfn COMMAND --help for details)",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
    "",
    "Start here:",
    "  sdfn validate recipes/*.yaml              check recipes; problems print as FILE:LINE:COL: error: ...",
    "  sdfn render recipes/sdfn-fashioniq.yaml   the recipe with every default filled in",
    "  sdfn modules                              everything a recipe can name, with parameters and defaults",
    "",
    "Exit codes: 0 ok, 2 a problem to fix (named with its file and the fix), 1 a diverged run or a failure inside sdfn.",
    "",
  ].join("\n");

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

// `sdfn modules | head` closes stdout early: stop quietly instead of crashing on EPIPE.
let pipeGuarded = false;
function guardPipe(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    // A command with its own handler (the training renderer keeps training, then checkpoints) decides itself.
    if (process.stdout.listenerCount("error") > 1) return;
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

export async function main(argv: string[]): Promise<number> {
  guardPipe();
  // https://no-color.org: chalk (Ink's colours) reads FORCE_COLOR, not NO_COLOR; it loads with the first command that draws.
  if (process.env.NO_COLOR) process.env.FORCE_COLOR = "0";
  // `sdfn help CMD` is `sdfn CMD --help`.
  const [name, ...rest] = argv[0] === "help" && argv[1] ? [argv[1], "--help"] : argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    const commands = await Promise.all(Object.values(loaders).map((load) => load()));
    (name ? process.stdout : process.stderr).write(usage(commands));
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "-V") {
    process.stdout.write(`sdfn ${version()}\n`);
    return 0;
  }
  const load = Object.hasOwn(loaders, name) ? loaders[name] : undefined;
  if (!load) {
    const hint = closest(name, Object.keys(loaders));
    process.stderr.write(
      `error: unknown command "${name}"${hint ? `; did you mean "${hint}"?` : ""}\nRun sdfn --help for the list of commands.\n`,
    );
    return 2;
  }
  return runCommand(await load(), rest);
}

/**
 * Runs one command: `--help`, or its run with every error reported here. One rule: a problem
 * the user fixes — input (a recipe, a flag, a data file, a run directory, a damaged file sdfn
 * wrote) or the machine (a full disk, a permission, a link where sdfn writes) — exits 2 with a
 * message naming the file and the fix; anything else is a failure of sdfn itself: exit 1.
 */
export async function runCommand(command: Command, rest: string[]): Promise<number> {
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(command.help.endsWith("\n") ? command.help : `${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof RecipeError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    // Every user mistake (a flag, a data file, a run directory, a damaged checkpoint, …) is a UserError;
    // an IoError names the path the file system refused and why: its message, exit 2.
    if (err instanceof UserError || err instanceof IoError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    // A failure inside sdfn (a bug to report): the message, and the stack only when asked for.
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(
      process.env.SDFN_DEBUG ? `${e.stack}\n` : `error: ${e.message}\n(set SDFN_DEBUG=1 to see the stack trace)\n`,
    );
    return 1;
  }
}
