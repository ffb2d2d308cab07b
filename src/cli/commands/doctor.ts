// `sdfn doctor` — which tfjs backends this machine can run, what each runs on, and why not.
import type { MachineFacts } from "../../backend/index.js";
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
from Debian's libtorch-dev, a PyTorch install, or LIBTORCH_DIR).

Then the machine facts that decide which CPU kernels run: the CPU model and its
vector instruction sets, oneDNN's version and the ISA it dispatches to (capped
by ONEDNN_MAX_CPU_ISA), ATen's kernel level and the forward-convolution format
(SDFN_TORCH_CONV_FORMAT). Put them in any report of a numerical difference.`,
  options: { json: { type: "boolean", help: "print the list as JSON instead" }, "no-plugins": { ...NO_PLUGINS_OPTION, help: "accepted by every command; this one never runs plugin code" }, },
  examples: ["sdfn doctor"],
  async run({ values, positionals }) {
    if (positionals.length > 0) throw new UsageError(`doctor: takes no arguments (got "${positionals[0]}")`);
    const { backendStatus, autoChoice, machineFacts } = await import("../../backend/index.js");
    const status = await backendStatus();
    const auto = autoChoice(status);
    const machine = machineFacts();
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ backends: status, auto, machine }, null, 2)}\n`);
      return 0;
    }
    const lines = status.map((s) =>
      `  ${s.name.padEnd(11)} ${s.available ? "available    " : "not available"}  ${s.available ? (s.device ?? "") : (s.why ?? "")}${s.available && s.name === "wasm" ? WASM_NOTE : ""}`,
    );
    const head = "Backends (`backend:` in a recipe, or sdfn build --backend NAME):";
    process.stdout.write([head, ...lines, `auto → ${auto}`, "", ...machineLines(machine), ""].join("\n"));
    return 0;
  },
});

/** The machine facts a report of a numerical difference needs (CPU ISA, oneDNN's dispatch). */
export function machineLines({ cpu, torchCpu }: MachineFacts): string[] {
  const lines = [
    "Machine (include these lines in a bug report about numbers):",
    `  cpu         ${cpu.model}, ${cpu.arch}, ${cpu.cores} core(s)`,
    `  isa         ${cpu.isa === null ? "unknown (no /proc/cpuinfo)" : cpu.isa.join(" ") || "none of the vector extensions"}`,
  ];
  if (torchCpu) {
    const onednn = torchCpu.onednnVersion
      ? `${torchCpu.onednnVersion}, dispatching ${torchCpu.onednnIsa || "unknown"}${process.env.ONEDNN_MAX_CPU_ISA ? ` (ONEDNN_MAX_CPU_ISA=${process.env.ONEDNN_MAX_CPU_ISA})` : ""}`
      : "not visible (linked into libtorch without exported symbols)";
    lines.push(`  oneDNN      ${onednn}`);
    lines.push(`  ATen        ${torchCpu.atenCapability || "unknown"} kernels; forward convolutions: ${torchCpu.convFormat} (SDFN_TORCH_CONV_FORMAT)`);
  }
  return lines;
}
