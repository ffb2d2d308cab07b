// `sdfn` entry: dispatches to the commands listed below (an explicit table).
import type { Command } from "./command.js";
import { UsageError } from "./command.js";

// Each command lives in ./commands/NAME.ts; add new ones to this list.
const loaders: Record<string, () => Promise<Command>> = {};

const usage = (commands: Command[]) =>
  [
    "sdfn — composed image retrieval from declarative recipes",
    "",
    "Usage: sdfn COMMAND [options]     (sdfn COMMAND --help for details)",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
    "",
  ].join("\n");

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const commands = await Promise.all(Object.values(loaders).map((load) => load()));
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage(commands));
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`error: unknown command "${name}"\n\n${usage(commands)}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(command.help.endsWith("\n") ? command.help : `${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
