// Validation: the merged tree is checked against the registry's JSON Schema with
// ajv (all errors at once), each error explained at its key or value; then zod
// parses it to fill every default and produce the typed Recipe.
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import type { Kind, Registry } from "../registry/registry.js";
import { KIND_LABELS, KindSchemas, toJsonSchema, type JsonSchema } from "../registry/schema.js";
import type { Located, Path } from "./located.js";
import { isMapping, problemAt, showPath } from "./located.js";
import type { Problem } from "./problems.js";
import { RECIPE_NAME, recipeSchema, type Recipe } from "./schema.js";
import { closest, didYouMean } from "./suggest.js";
import { crossChecks } from "./cross-checks.js";

export interface Validated {
  problems: Problem[];
  recipe?: Recipe;
}

/** Validates `located.tree` against the recipe schema of `registry`. */
export function validateTree(located: Located, registry: Registry, fallbackFile: string): Validated {
  const kinds = new KindSchemas(registry);
  const schema = recipeSchema(kinds);
  const validate = compile(toJsonSchema(schema, kinds));
  const at = (path: Path, message: string, where: "key" | "value" = "value") =>
    problemAt(located.places, path, message, where, fallbackFile);

  if (!validate(located.tree)) {
    return { problems: explainAll(validate.errors ?? [], located.tree, registry, at) };
  }
  const parsed = schema.safeParse(located.tree);
  if (!parsed.success) {
    // Checks JSON Schema cannot express (refinements): zod's own messages, at the same places.
    return { problems: parsed.error.issues.map((i) => at(i.path as Path, `${showPath(i.path as Path)}: ${i.message}`)) };
  }
  const recipe = deepFreeze(parsed.data) as Recipe;
  const crossed = crossChecks(recipe, at, registry);
  return crossed.length ? { problems: crossed } : { problems: [], recipe };
}

// Compiling a schema takes a few ms; recipes validated in one process mostly share one.
const compiled = new Map<string, ValidateFunction>();
function compile(json: JsonSchema): ValidateFunction {
  const key = JSON.stringify(json);
  let v = compiled.get(key);
  if (!v) {
    const ajv = new Ajv2020({ allErrors: true, discriminator: true, verbose: true, strict: false, logger: false });
    v = ajv.compile(json);
    if (compiled.size >= 8) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, v);
  }
  return v;
}

type At = (path: Path, message: string, where?: "key" | "value") => Problem;

function explainAll(errors: ErrorObject[], tree: unknown, registry: Registry, at: At): Problem[] {
  // A non-discriminated union (anyOf/oneOf) reports every branch's errors: keep one summary.
  const unions = errors.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf");
  const inBranch = (e: ErrorObject) =>
    unions.some((u) => e !== u && e.schemaPath.startsWith(`${u.schemaPath}/`) && e.instancePath.startsWith(u.instancePath));
  return errors.filter((e) => !inBranch(e)).map((e) => explain(e, tree, registry, at));
}

function explain(e: ErrorObject, tree: unknown, registry: Registry, at: At): Problem {
  const path = toPath(e.instancePath, tree);
  const where = showPath(path);
  const p = e.params as Record<string, any>;
  switch (e.keyword) {
    case "additionalProperty":
    case "additionalProperties": {
      const key = String(p.additionalProperty);
      const allowed = Object.keys((e.parentSchema as JsonSchema).properties ?? {});
      const hint = closest(key, allowed);
      const tag = allowed.length === 1 && (allowed[0] === "type" || allowed[0] === "dataset");
      const home = hint ? undefined : nestedHome(e.parentSchema as JsonSchema, key);
      const fix = hint
        ? `did you mean "${hint}"?`
        : home
          ? `it belongs one level down: put it under ${home}: (${[...path, home, key].join(".")})`
          : tag
            ? "it takes no parameters"
            : allowed.length
              ? `allowed keys: ${allowed.join(", ")}`
              : "it takes no keys";
      return at([...path, key], `unknown key "${key}" in ${container(path, e.data)}; ${fix}`, "key");
    }
    case "required": {
      const key = String(p.missingProperty);
      return at(path, `missing required key "${key}" in ${container(path, e.data)}${requiredHint(e, key, registry)}`, "key");
    }
    case "discriminator": {
      const kind = kindOf(e.schemaPath);
      const tag = String(p.tag);
      const names = kind ? registry.names(kind) : [];
      const [one, many] = kind ? KIND_LABELS[kind] : ["thing", "things"];
      if (p.error === "mapping") {
        const value = String(p.tagValue);
        const hint = closest(value, names);
        const problem = at(
          [...path, tag],
          `unknown ${one} "${value}"${hint ? `; did you mean "${hint}"?` : ""} (registered ${many}: ${names.join(", ")})` +
            (value.includes("/") && !hint ? "; is the plugin that registers it listed in `plugins:`?" : ""),
        );
        // Only a plugin registers a namespaced name: the loader checks the rest of the recipe before running plugins.
        return value.includes("/") ? { ...problem, unregistered: value } : problem;
      }
      const has = isMapping(e.data) && tag in e.data;
      return has
        ? at([...path, tag], `${where}.${tag}: expected the name of a ${one} (a string), got ${got((e.data as Record<string, unknown>)[tag])}`)
        : at(path, `${where}: missing "${tag}:" naming the ${one}; one of ${names.join(", ")}`, "key");
    }
    case "not":
      return at(path, `${where}: ${String((e.parentSchema as JsonSchema).description ?? "not allowed here")}`);
    case "type": {
      const kind = kindOf(e.schemaPath);
      // `- RCM` instead of `- { type: RCM }`: say how to write it.
      const fix =
        kind && typeof e.data === "string" && registry.get(kind, e.data)
          ? `; write { ${kind === "dataset" ? "dataset" : "type"}: ${e.data} }`
          : "";
      return at(path, `${where}: expected ${typeNames(p.type)}, got ${got(e.data)}${fix}`);
    }
    case "enum": {
      const options = (p.allowedValues as unknown[]).map(String);
      return at(path, `${where}: expected one of ${options.join(", ")}; got ${got(e.data)}${typeof e.data === "string" ? didYouMean(e.data as string, options) : ""}`);
    }
    case "const":
      return at(path, `${where}: expected ${JSON.stringify(p.allowedValue)}, got ${got(e.data)}`);
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return at(path, `${where}: must be ${p.comparison} ${p.limit}, got ${got(e.data)}`);
    case "minItems":
      return at(path, `${where}: needs at least ${p.limit} ${p.limit === 1 ? "entry" : "entries"}, got ${(e.data as unknown[]).length}`);
    case "maxItems":
      return at(path, `${where}: allows at most ${p.limit} entries, got ${(e.data as unknown[]).length}`);
    case "maxLength":
    case "minLength": {
      const length = String(e.data).length;
      const why = path.length === 1 && path[0] === "name" ? " (it names the run directory, a date is added, and file names are at most 255 bytes)" : "";
      return at(path, `${where}: ${length} characters; ${e.keyword === "maxLength" ? "at most" : "at least"} ${p.limit} allowed${why}`);
    }
    case "pattern":
      return at(path, `${where}: ${got(e.data)} is not allowed: ${PATTERN_HINTS[String(p.pattern)] ?? `it must match ${p.pattern}`}`);
    case "anyOf":
    case "oneOf": {
      const branches = ((e.parentSchema as JsonSchema)[e.keyword] as JsonSchema[]).map(describeSchema);
      return at(path, `${where}: expected ${[...new Set(branches)].join(" or ")}, got ${got(e.data)}`);
    }
    default:
      return at(path, `${where}: ${e.message ?? e.keyword}`);
  }
}

/** `/fusion/modules/0` → ["fusion", "modules", 0] (indices as numbers where the tree has a list). */
function toPath(pointer: string, tree: unknown): Path {
  if (!pointer) return [];
  const out: (string | number)[] = [];
  let node = tree;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    const key: string | number = Array.isArray(node) ? Number(seg) : seg;
    out.push(key);
    node = (node as Record<string | number, unknown> | undefined)?.[key];
  }
  return out;
}

/** `fusion.modules[2] (CAM)`, or "the recipe" at the top. */
function container(path: Path, data: unknown): string {
  const name = showPath(path);
  if (!isMapping(data)) return name;
  const tag = typeof data.type === "string" ? data.type : typeof data.dataset === "string" ? data.dataset : undefined;
  return tag && path.length ? `${name} (${tag})` : name;
}

/** The sibling section that has `key` (e.g. `epochs` at the top belongs in `training`), if one does. */
function nestedHome(parent: JsonSchema, key: string): string | undefined {
  const props = (parent.properties ?? {}) as Record<string, JsonSchema>;
  return Object.keys(props).find((name) => Object.hasOwn((props[name]!.properties ?? {}) as object, key));
}

/** For a missing field holding a registered thing: which ones there are. */
function requiredHint(e: ErrorObject, key: string, registry: Registry): string {
  const prop = ((e.parentSchema as JsonSchema).properties as Record<string, JsonSchema> | undefined)?.[key];
  const ref = String(prop?.$ref ?? (prop?.items as JsonSchema | undefined)?.$ref ?? "");
  const kind = kindOf(`${ref}/`);
  if (!kind) return "";
  const [, many] = KIND_LABELS[kind];
  return ` (registered ${many}: ${registry.names(kind).join(", ")})`;
}

/** Patterns in words. */
const PATTERN_HINTS: Record<string, string> = {
  [RECIPE_NAME.source]: "use letters, digits, '.', '_' and '-' (it names the run directory)",
};

function kindOf(schemaPath: string): Kind | undefined {
  const m = /#\/\$defs\/([a-z_]+)\//.exec(schemaPath);
  return m && m[1]! in KIND_LABELS ? (m[1] as Kind) : undefined;
}

const TYPE_NAMES: Record<string, string> = {
  integer: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  null: "null",
};
const typeNames = (t: string | string[]) => (Array.isArray(t) ? t : String(t).split(",")).map((x) => TYPE_NAMES[x] ?? x).join(" or ");

function describeSchema(s: JsonSchema): string {
  if ("const" in s) return JSON.stringify(s.const);
  if (s.type) return typeNames(s.type as string | string[]);
  if (s.$ref) return `a ${String(s.$ref).split("/").pop()}`;
  return "a value of another form";
}

/** How a received value reads in a message: `"abc"`, `0`, `a list`, `a mapping`, `nothing`. */
export function got(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  return String(v);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
