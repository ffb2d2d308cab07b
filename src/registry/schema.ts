// From registered declarations to schemas: for each kind, a zod discriminated union
// of its declarations' params (discriminated by `type`, or `dataset` for datasets),
// and the JSON Schema (draft 2020-12) of a zod schema built from such unions, with
// each kind's union under `$defs/<kind>` carrying an ajv/OpenAPI `discriminator`.
import { z } from "zod";
import type { Declaration, Kind, Registry } from "./registry.js";

/** A registered thing named in a recipe: `{ type: "JRM", heads: 8, … }`. */
export interface KindEntry {
  type: string;
  [param: string]: unknown;
}
/** A dataset named in a recipe: `{ dataset: "fashioniq", root: …, … }`. */
export interface DatasetEntry {
  dataset: string;
  [param: string]: unknown;
}

/** How people call each kind: singular and plural. */
export const KIND_LABELS: Record<Kind, [string, string]> = {
  module: ["fusion module", "fusion modules"],
  router: ["router", "routers"],
  image_encoder: ["image encoder", "image encoders"],
  text_encoder: ["text encoder", "text encoders"],
  loss: ["loss", "losses"],
  dataset: ["dataset", "datasets"],
  optimizer: ["optimizer", "optimizers"],
  schedule: ["schedule", "schedules"],
};

/** The key that names which declaration an entry uses. */
export const discriminatorOf = (kind: Kind): "type" | "dataset" => (kind === "dataset" ? "dataset" : "type");

/** The params schema of one declaration as a strict object with its discriminator. */
export function variantOf(kind: Kind, declaration: Declaration): z.ZodObject {
  const key = discriminatorOf(kind);
  const variant = z
    .strictObject({ [key]: z.literal(declaration.name).describe(declaration.doc), ...declaration.params.shape })
    .describe(declaration.doc);
  // Refinements of the params object (`.refine(p => p.lo < p.hi)`) apply to the entry too.
  const checks = (declaration.params._zod.def.checks ?? []) as z.core.$ZodCheck<Record<string, unknown>>[];
  return checks.length ? variant.check(...checks) : variant;
}

/**
 * The schemas of every kind for one registry. `slot(kind)` is what a recipe
 * section uses for a field holding one registered thing; it is typed as
 * KindEntry (the registry is only known at run time).
 */
export class KindSchemas {
  private readonly unions = new Map<Kind, z.ZodType>();
  /** union schema → kind, to name the `$defs` entries. */
  readonly kindOf = new Map<z.ZodType, Kind>();

  constructor(readonly registry: Registry) {}

  /** The discriminated union of every declaration of `kind` (z.never() when there is none). */
  union(kind: Kind): z.ZodType {
    let u = this.unions.get(kind);
    if (!u) {
      const variants = this.registry.list(kind).map((d) => variantOf(kind, d));
      const [label] = KIND_LABELS[kind];
      u =
        variants.length === 0
          ? z.never().describe(`no ${label} is registered`)
          : z
              .discriminatedUnion(discriminatorOf(kind), variants as [z.ZodObject, ...z.ZodObject[]])
              .describe(`A ${label}: one of ${this.registry.names(kind).join(", ")}.`);
      this.unions.set(kind, u);
      this.kindOf.set(u, kind);
    }
    return u;
  }

  /**
   * A field holding one registered `kind`. With `fallback`, omitting the field
   * means `{type: fallback}` with that declaration's defaults (when it is registered).
   */
  slot(kind: Exclude<Kind, "dataset">): z.ZodType<KindEntry>;
  slot(kind: Exclude<Kind, "dataset">, fallback: string): z.ZodPrefault<z.ZodType<KindEntry>>;
  slot(kind: Exclude<Kind, "dataset">, fallback?: string): z.ZodType<KindEntry> {
    const u = this.union(kind);
    const withDefault = fallback && this.registry.get(kind, fallback) ? u.prefault({ type: fallback }) : u;
    return withDefault as unknown as z.ZodType<KindEntry>;
  }

  /** The `data` field: one registered dataset. */
  dataset(): z.ZodType<DatasetEntry> {
    return this.union("dataset") as unknown as z.ZodType<DatasetEntry>;
  }
}

export type JsonSchema = Record<string, unknown>;

/** JSON Schema (draft 2020-12, input side: defaulted fields optional) of `schema`, kinds under `$defs`. */
export function toJsonSchema(schema: z.ZodType, kinds: KindSchemas): JsonSchema {
  const ids = z.registry<{ id?: string }>();
  for (const [union, kind] of kinds.kindOf) ids.add(union, { id: kind });
  const json = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io: "input",
    metadata: ids,
    unrepresentable: "any",
    override: (ctx) => {
      const meta = z.globalRegistry.get(ctx.zodSchema);
      if (meta?.description && !ctx.jsonSchema.description) ctx.jsonSchema.description = meta.description;
      const def = (ctx.zodSchema as unknown as { _zod: { def: { type: string; discriminator?: string } } })._zod.def;
      if (def.type === "union" && def.discriminator && ctx.jsonSchema.oneOf) {
        // ajv's `discriminator` (and editors) pick the branch by this key: only its errors remain.
        ctx.jsonSchema.type = "object";
        ctx.jsonSchema.discriminator = { propertyName: def.discriminator };
      }
    },
  }) as JsonSchema;
  return tidy(json) as JsonSchema;
}

/** Drops zod's ±MAX_SAFE_INTEGER bounds on integers: noise for readers and editors. */
function tidy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(tidy);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if ((k === "maximum" && v === Number.MAX_SAFE_INTEGER) || (k === "minimum" && v === -Number.MAX_SAFE_INTEGER)) continue;
    out[k] = tidy(v);
  }
  return out;
}

/** One parameter of a declaration, for listings (`sdfn modules`) and docs. */
export interface ParamInfo {
  name: string;
  /** `integer ≥ 1`, `mean | product | gate`, `list of number`, ... */
  type: string;
  /** JSON of the default; undefined when the parameter is required or optional without default. */
  default?: string;
  required: boolean;
  description: string;
}

/** The parameters of a declaration, in order, from its zod params (through JSON Schema, input side). */
export function describeParams(declaration: Declaration): ParamInfo[] {
  const json = z.toJSONSchema(declaration.params, { target: "draft-2020-12", io: "input", unrepresentable: "any" }) as JsonSchema;
  const props = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => ({
    name,
    type: typeText(s),
    default: "default" in s ? JSON.stringify(s.default) : undefined,
    required: required.has(name),
    description: String(s.description ?? ""),
  }));
}

function typeText(s: JsonSchema): string {
  if (Array.isArray(s.enum)) return s.enum.map(String).join(" | ");
  if ("const" in s) return JSON.stringify(s.const);
  if (Array.isArray(s.anyOf)) return (s.anyOf as JsonSchema[]).map(typeText).join(" | ");
  const type = Array.isArray(s.type) ? s.type.join(" | ") : String(s.type ?? "any");
  if (type === "array") return `list of ${s.items ? typeText(s.items as JsonSchema) : "any"}`;
  if (typeof s.minimum === "number" && typeof s.maximum === "number" && s.maximum !== Number.MAX_SAFE_INTEGER) {
    return `${type} in [${s.minimum}, ${s.maximum}]`;
  }
  const bounds: string[] = [];
  if (typeof s.minimum === "number" && s.minimum !== -Number.MAX_SAFE_INTEGER) bounds.push(`≥ ${s.minimum}`);
  if (typeof s.exclusiveMinimum === "number") bounds.push(`> ${s.exclusiveMinimum}`);
  if (typeof s.maximum === "number" && s.maximum !== Number.MAX_SAFE_INTEGER) bounds.push(`≤ ${s.maximum}`);
  if (typeof s.exclusiveMaximum === "number") bounds.push(`< ${s.exclusiveMaximum}`);
  return [type === "object" ? "mapping" : type, ...bounds].join(" ");
}
