// `sdfn doctor` — which tfjs backends this machine can run, what each runs on, and why not.
import { UsageError, defineCommand, NO_PLUGINS_OPTION } from "../command.js";

/** tfjs-backend-wasm 4.22 lacks two gradient kernels; sdfn registers its own (src/backend/wasm/), so wasm trains too. */
export const WASM_NOTE = " — trains and evaluates (sdfn adds the gradient kernels tfjs-backend-wasm lacks)";

export const command = defineCommand({
  name: "doctor",
  summary: "list the tfjs backends (cpu, torch, tensorflow, wasm, webgpu): available or why not",
  usage: "[--json]",
  description: `Checks every backend sdfn can train on and prints one line each: available
(and on what device) or not, and why not with how to fix it. The last line
says which backend \`backend: auto\` picks: torch (CUDA, else CPU), then
tensorflow (tfjs-node, when installed), then wasm (it trains: sdfn registers
the gradient kernels tfjs-backend-wasm lacks; ~3× the pure-JS cpu), then cpu.
webgpu is used only when named.

The torch backend needs its native addon: \`npm run build:native\` (libtorch
from Debian's libtorch-dev, a PyTorch install, or LIBTORCH_DIR).`,
  options: { json: { type: "boolean", help: "print the list as JSON instead" }, "no-plugins": { ...NO_PLUGINS_OPTION, help: "accepted by every command; this one never runs plugin code" }, },
  examples: ["sdfn doctor"],
  async run({ values, positionals }) {
    if (positionals.length > 0) throw new UsageError(`doctor: takes no arguments (got "${positionals[0]}")`);
    const { backendStatus, autoChoice } = await import("../../backend/index.js");
    const status = await backendStatus();
    const auto = autoChoice(status);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ backends: status, auto }, null, 2)}\n`);
      return 0;
    }
    const lines = status.map((s) =>
      `  ${s.name.padEnd(11)} ${s.available ? "available    " : "not available"}  ${s.available ? (s.device ?? "") : (s.why ?? "")}${s.available && s.name === "wasm" ? WASM_NOTE : ""}`,
    );
    process.stdout.write(["Backends (`backend:` in a recipe, or sdfn build --backend NAME):", ...lines, `auto → ${auto}`, ""].join("\n"));
    return 0;
  },
});
