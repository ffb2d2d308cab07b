// A text summary of a compiled network for `sdfn build --dry-run`: the encoders, the
// layers × modules grid with the router, tensor shapes, and parameter counts per part.
import type { Network, Typed } from "./compile.js";

const count = (n: number) => n.toLocaleString("en-US");

/** `{ type: "JRM", heads: 8 }` → `JRM(heads=8)`. */
function describe(t: Typed): string {
  const params = Object.entries(t)
    .filter(([k]) => k !== "type")
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(",")}]` : String(v)}`);
  return params.length ? `${t.type}(${params.join(", ")})` : t.type;
}

/** The part a parameter belongs to: image.backbone, text.rnn, fusion.layers.0.modules.1, … */
function partOf(name: string): string {
  const parts = name.split(".");
  if (parts[0] === "fusion" && parts[1] === "layers") {
    return parts[3] === "router" ? parts.slice(0, 4).join(".") : parts.slice(0, 5).join(".");
  }
  return parts.slice(0, 2).join(".");
}

interface PartCount {
  trainable: number;
  fixed: number;
}

function countParts(network: Network): Map<string, PartCount> {
  const parts = new Map<string, PartCount>();
  const seen = [...network.store.variables.keys()].map(partOf);
  // encoder parts first, then every module and router of every layer (RCM, static: 0)
  for (const key of seen) if (!key.startsWith("fusion.")) parts.set(key, { trainable: 0, fixed: 0 });
  network.layers.forEach((names, l) => {
    names.forEach((_, i) => parts.set(`fusion.layers.${l}.modules.${i}`, { trainable: 0, fixed: 0 }));
    parts.set(`fusion.layers.${l}.router`, { trainable: 0, fixed: 0 });
  });
  for (const [name, v] of network.store.variables) {
    const key = partOf(name);
    const c = parts.get(key) ?? { trainable: 0, fixed: 0 };
    if (v.trainable) c.trainable += v.size;
    else c.fixed += v.size;
    parts.set(key, c);
  }
  return parts;
}

/** Layers × modules, router, shapes, parameter counts per part and in total. */
export function summarizeNetwork(network: Network): string {
  const { spec, dim: d } = network;
  const m = spec.modules.length;
  const layers = network.layers.length;
  const size = spec.imageSize;
  const grid = size !== undefined && network.image.grid ? network.image.grid(size) : undefined;
  const n = grid !== undefined ? String(grid * grid) : "N";
  const input = spec.image.type === "features" ? `(B, h, w, ${network.image.featureChannels ?? "C"})` : `(B, ${size ?? "H"}, ${size ?? "W"}, 3)`;
  const lines: string[] = [];
  lines.push(`network: d = ${d}, ${layers} fusion layer${layers === 1 ? "" : "s"} × ${m} module${m === 1 ? "" : "s"}, router ${describe(spec.router)}`);
  lines.push("");
  lines.push(`  image   ${describe(spec.image)}`);
  lines.push(`          reference ${input} → X (B, ${n}, ${d});  target ${input} → t (B, ${d})`);
  lines.push(`  text    ${describe(spec.text)}`);
  lines.push(`          tokens (B, T) → W (B, T, ${d}), s (B, ${d})`);
  if (network.text.glove) {
    const g = network.text.glove;
    lines.push(`          GloVe ${g.file}: ${count(g.found)} words found, ${count(g.missing)} missing`);
  }
  lines.push(`  fusion  ${layers} × [${spec.modules.map((t) => t.type).join(", ")}], router ${describe(spec.router)}`);
  spec.modules.forEach((t, i) => lines.push(`    module ${i}  ${describe(t)}`));
  const width = Math.max(...spec.modules.map((t) => t.type.length));
  network.layers.forEach((names, l) => {
    const final = l === layers - 1;
    const cells = names.map((name) => name.padEnd(width)).join("  ");
    const route = final ? `w (B, ${m}, 1) over the modules` : `p (B, ${m}, ${m}) to layer ${l + 1}`;
    lines.push(`    layer ${l}   ${cells}  → ${route}`);
  });
  lines.push(`    each module (B, ${n}, ${d}) → (B, ${n}, ${d});  f = Σ w_i y_i (B, ${n}, ${d}) → q (B, ${d})`);
  lines.push("");
  lines.push("  parameters");
  const parts = countParts(network);
  const nameWidth = Math.max(...[...parts.keys()].map((k) => k.length + typeLabel(network, k).length), 10) + 2;
  let trainable = 0;
  let fixed = 0;
  for (const [key, c] of parts) {
    trainable += c.trainable;
    fixed += c.fixed;
    const label = `${key}${typeLabel(network, key)}`.padEnd(nameWidth);
    const frozen = c.fixed ? `  (+${count(c.fixed)} fixed)` : "";
    lines.push(`    ${label}${count(c.trainable).padStart(14)}${frozen}`);
  }
  lines.push(`    ${"total".padEnd(nameWidth)}${count(trainable).padStart(14)} trainable, ${count(fixed)} fixed`);
  return `${lines.join("\n")}\n`;
}

/** " (JRM)" for a module's part, " (msr)" for a router's, else "". */
function typeLabel(network: Network, key: string): string {
  const match = /^fusion\.layers\.\d+\.(modules\.(\d+)|router)$/.exec(key);
  if (!match) return "";
  return match[2] !== undefined ? ` (${network.spec.modules[Number(match[2])]!.type})` : ` (${network.spec.router.type})`;
}
