// The registry: one map per kind from exact name to declaration. It is the only
// global mutable state (tests make their own instance). No scopes, no fallback.
import type { z } from "zod";

/**
 * One registered thing: its exact name, its params as a zod object (each field
 * with a default and a description), a doc line, and the function that builds it.
 */
export interface Declaration<Params extends z.ZodObject = z.ZodObject, Ctx = unknown, Built = unknown> {
  name: string;
  doc: string;
  params: Params;
  build: (params: z.output<Params>, ctx: Ctx) => Built;
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

/** Plugin names are namespaced: `org/Name`. */
export const PLUGIN_NAME = /^[a-z0-9][a-z0-9_-]*\/[A-Za-z][A-Za-z0-9_]*$/;

export class Registry {
  private readonly tables = new Map<Kind, Map<string, Declaration>>(KINDS.map((k) => [k, new Map()]));

  /** Registers a declaration; a name already taken throws (never overwrites). */
  register(kind: Kind, declaration: Declaration<any, any, any>, source = "built-in"): void {
    const table = this.tables.get(kind)!;
    const existing = table.get(declaration.name);
    if (existing) {
      throw new Error(`${kind} "${declaration.name}" is already registered; pick another name (from ${source})`);
    }
    table.set(declaration.name, declaration);
  }

  get(kind: Kind, name: string): Declaration | undefined {
    return this.tables.get(kind)!.get(name);
  }

  /** Names of a kind, in registration order. */
  names(kind: Kind): string[] {
    return [...this.tables.get(kind)!.keys()];
  }

  list(kind: Kind): Declaration[] {
    return [...this.tables.get(kind)!.values()];
  }
}
