// `sdfn modules [KIND|NAME]` — everything a recipe can name, with parameters, defaults and docs.
import { PLUGIN_OPTION, UsageError, defineCommand, NO_PLUGINS_OPTION, pluginFlags } from "../command.js";
import type { Kind, Registry } from "../../registry/registry.js";

/** Where each kind goes in a recipe. */
const PLACE: Record<Kind, string> = {
  module: "fusion.modules: [{ type: NAME, ... }]",
  router: "fusion.router: { type: NAME, ... }",
  image_encoder: "encoders.image: { type: NAME, ... }",
  text_encoder: "encoders.text: { type: NAME, ... }",
  loss: "losses: [{ type: NAME, weight: 1.0, ... }]",
  dataset: "data: { dataset: NAME, ... }",
  optimizer: "training.optimizer: { type: NAME, ... }",
  schedule: "training.schedule: { type: NAME, ... }",
};

export const command = defineCommand({
  name: "modules",
  summary: "list what a recipe can name (modules, routers, encoders, losses, ...) with parameters",
  usage: "[KIND | NAME] [--plugin FILE]... [--json]",
  description: `Lists every registered thing a recipe can name, grouped by kind, with where it
goes in a recipe, its doc line and each parameter's type, default and meaning.
Kinds: module, router, image_encoder, text_encoder, loss, dataset, optimizer, schedule.`,
  arguments: { "KIND | NAME": "show only one kind (e.g. module, losses) or one declaration (e.g. JRM, msr)" },
  options: {
    plugin: { ...PLUGIN_OPTION, help: "include a plugin's declarations (relative to the working directory). Repeatable.\nPlugins are code: this runs the file." },
    "no-plugins": { ...NO_PLUGINS_OPTION, help: "run no plugin file (only the built-ins are listed)" },
    json: { type: "boolean", help: "print JSON: [{ kind, name, doc, params: [{ name, type, default, required, description }] }]" },
  },
  examples: ["sdfn modules", "sdfn modules JRM", "sdfn modules module --plugin examples/plugins/gated-sum.ts"],
  async run({ values, positionals }) {
    if (positionals.length > 1) throw new UsageError("modules: give at most one KIND or NAME");
    const { loadRegistry } = await import("../../recipe/index.js");
    const { KINDS } = await import("../../registry/registry.js");
    const { describeParams, KIND_LABELS } = await import("../../registry/schema.js");
    const registry = await loadRegistry(pluginFlags(values).plugins);
    const entries = select(registry, KINDS, KIND_LABELS, positionals[0]);
    const listed = entries.map(({ kind, name }) => {
      const d = registry.get(kind, name)!;
      return { kind, name, doc: d.doc, params: describeParams(d) };
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(listed, null, 2)}\n`);
      return 0;
    }
    const lines: string[] = [];
    for (const kind of KINDS) {
      const ofKind = listed.filter((e) => e.kind === kind);
      if (ofKind.length === 0) continue;
      const [, many] = KIND_LABELS[kind];
      lines.push(`${many[0]!.toUpperCase()}${many.slice(1)} (${kind}) — ${PLACE[kind]}`, "");
      for (const e of ofKind) {
        lines.push(`  ${e.name} — ${e.doc}`);
        const nameWidth = Math.max(0, ...e.params.map((p) => p.name.length));
        const typeWidth = Math.max(0, ...e.params.map((p) => p.type.length));
        const shown = e.params.map((p) => (p.default !== undefined ? `= ${p.default}` : p.required ? "(required)" : "(optional)"));
        const defaultWidth = Math.max(0, ...shown.map((d) => d.length));
        e.params.forEach((p, i) => {
          lines.push(`      ${p.name.padEnd(nameWidth)}  ${p.type.padEnd(typeWidth)}  ${shown[i]!.padEnd(defaultWidth)}  ${p.description}`.trimEnd());
        });
        if (e.params.length === 0) lines.push("      (no parameters)");
        lines.push("");
      }
    }
    process.stdout.write(lines.join("\n"));
    return 0;
  },
});

/** The (kind, name) pairs to list: all, one kind, or one declaration. */
function select(
  registry: Registry,
  kinds: readonly Kind[],
  labels: Record<Kind, [string, string]>,
  filter: string | undefined,
): { kind: Kind; name: string }[] {
  const all = kinds.flatMap((kind) => registry.names(kind).map((name) => ({ kind, name })));
  if (!filter) return all;
  const f = filter.toLowerCase().replace(/[\s-]/g, "_");
  const kind = kinds.find((k) => k === f || `${k}s` === f || labels[k].some((l) => l.replace(/\s/g, "_") === f));
  if (kind) return all.filter((e) => e.kind === kind);
  const named = all.filter((e) => e.name.toLowerCase() === filter.toLowerCase());
  if (named.length > 0) return named;
  const names = [...kinds, ...all.map((e) => e.name)];
  const lower = filter.toLowerCase();
  const near = names.find((n) => n.toLowerCase().startsWith(lower.slice(0, 3)));
  throw new UsageError(
    `modules: nothing is called "${filter}"${near ? `; did you mean "${near}"?` : ""} (kinds: ${kinds.join(", ")}; or a name such as JRM)`,
  );
}
