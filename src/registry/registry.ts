// The registry: one map per kind from exact name to declaration, each remembering
// who registered it. `build(kind, entry, ctx, where)` is the one place a recipe
// entry is looked up, its params parsed (defaults from the schema) and built.
// It is the only global mutable state (tests make their own instance). No scopes, no fallback.
import type { z } from "zod";
import { UserError } from "../util/errors.js";
import type { KindContracts, PretrainedFile, Tokenizer, TokenizerContext } from "./kinds.js";

/**
 * One registered thing: its exact name, its params as a zod object (each field
 * with a default and a description), a doc line, and the function that builds it.
 */
export interface Declaration<Params extends z.ZodObject = z.ZodObject, Ctx = any, Built = unknown> {
  name: string;
  doc: string;
  params: Params;
  build: (params: z.output<Params>, ctx: Ctx) => Built;
  /**
   * Datasets only, optional: the most images an evaluation gallery can hold when the params alone
   * fix it (shapes), so a recipe's Recall@K beyond it is refused at validation; undefined when the
   * size is known only after reading the annotation files (checked when the dataset opens).
   */
  galleryBound?: (params: z.output<Params>) => number | undefined;
  /**
   * Encoders only, optional: the files the params name that build reads (pretrained weights,
   * GloVe), so a missing one is refused before a run directory is made, with how to obtain it.
   */
  pretrainedFiles?: (params: z.output<Params>) => PretrainedFile[];
  /**
   * Text encoders only, optional: the tokenizer the encoder was trained with (CLIP's byte-level
   * BPE), built from its params. A run then tokenizes with it instead of a vocabulary of the
   * training words, and keeps it as its vocabulary.json.
   */
  tokenizer?: (params: z.output<Params>, ctx: TokenizerContext) => Tokenizer;
}

/** The kinds of registered things a recipe can name. */
export const KINDS = [
  "module",
  "router",
  "image_encoder",
  "text_encoder",
  "loss",
  "dataset",
  "optimizer",
  "schedule",
] as const;
export type Kind = (typeof KINDS)[number];

/** What a declaration of kind K builds from, and what it returns. */
export type ContextOf<K extends Kind> = KindContracts[K]["context"];
export type BuiltOf<K extends Kind> = KindContracts[K]["built"];
/** A declaration of kind K: its params are checked by its define* helper (src/registry/define.ts). */
export type DeclarationOf<K extends Kind> = Declaration<any, ContextOf<K>, BuiltOf<K>>;

/** Plugin names are namespaced: `org/Name`. */
export const PLUGIN_NAME = /^[a-z0-9][a-z0-9_-]*\/[A-Za-z][A-Za-z0-9_]*$/;

/** The key of a recipe entry that names its declaration: `data: { dataset: … }`, elsewhere `{ type: … }`. */
export const nameKey = (kind: Kind): "dataset" | "type" => (kind === "dataset" ? "dataset" : "type");

/** A recipe entry: the name under `nameKey(kind)`, the rest its params. */
export type Entry = { readonly [key: string]: unknown };

/** An entry that names nothing registered, or whose params do not parse; `where` is its recipe path. */
export class RegistryError extends UserError {
  override name = "RegistryError";
}

/** Who registered a declaration: "built-in", "plugin FILE", or what a test says. */
export type Source = string;

interface Registered {
  declaration: Declaration;
  source: Source;
}

export class Registry {
  private readonly tables = new Map<Kind, Map<string, Registered>>(KINDS.map((k) => [k, new Map()]));

  /** Registers a declaration; a name already taken throws (never overwrites). */
  register(kind: Kind, declaration: Declaration<any, any, any>, source: Source = "built-in"): void {
    const table = this.tables.get(kind)!;
    const existing = table.get(declaration.name);
    if (existing) {
      throw new Error(`${kind} "${declaration.name}" is already registered by ${existing.source}; pick another name (from ${source})`);
    }
    table.set(declaration.name, { declaration, source });
  }

  get<K extends Kind>(kind: K, name: string): DeclarationOf<K> | undefined {
    return this.tables.get(kind)!.get(name)?.declaration as DeclarationOf<K> | undefined;
  }

  /** Who registered `name` ("built-in", "plugin FILE", …), or undefined when nobody did. */
  sourceOf(kind: Kind, name: string): Source | undefined {
    return this.tables.get(kind)!.get(name)?.source;
  }

  /** Names of a kind, in registration order. */
  names(kind: Kind): string[] {
    return [...this.tables.get(kind)!.keys()];
  }

  list<K extends Kind>(kind: K): DeclarationOf<K>[] {
    return [...this.tables.get(kind)!.values()].map((r) => r.declaration as DeclarationOf<K>);
  }

  /** A new registry with the same declarations and sources (plugins then go into the copy). */
  copy(): Registry {
    const copy = new Registry();
    for (const [kind, table] of this.tables) for (const r of table.values()) copy.register(kind, r.declaration, r.source);
    return copy;
  }

  /**
   * Looks `entry` up by its name and parses its params (every default filled).
   * Throws RegistryError naming `where`, the recipe path of the entry.
   */
  resolve<K extends Kind>(kind: K, entry: Entry, where: string): { declaration: DeclarationOf<K>; params: Record<string, any> } {
    const { [nameKey(kind)]: name, ...params } = entry;
    const declaration = this.get(kind, String(name));
    if (!declaration) {
      throw new RegistryError(`${where}: unknown ${kind} "${String(name)}"; registered: ${this.names(kind).join(", ") || "(none)"}`);
    }
    const parsed = (declaration.params as z.ZodObject).safeParse(params);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${[where, ...i.path].join(".")}: ${i.message}`).join("; ");
      throw new RegistryError(`${where} (${String(name)}): invalid parameters: ${issues}`);
    }
    return { declaration, params: parsed.data as Record<string, any> };
  }

  /** Looks up, parses and builds `entry` with the kind's context. */
  build<K extends Kind>(kind: K, entry: Entry, ctx: ContextOf<K>, where: string): BuiltOf<K> {
    const { declaration, params } = this.resolve(kind, entry, where);
    return declaration.build(params, ctx);
  }
}
