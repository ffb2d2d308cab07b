// The shapes world: scenes of coloured shapes, one per grid cell, the edits that
// turn one scene into another, their texts, and a parser of those texts.
export const COLOR_NAMES = ["red", "green", "blue", "yellow", "purple", "orange"] as const;
export const SHAPE_NAMES = ["circle", "square", "triangle", "cross"] as const;
export const SIZE_NAMES = ["small", "large"] as const;

export interface Obj {
  shape: number;
  color: number;
  size: number; // 0 small, 1 large
  cell: number; // row * grid + col
}
/** Objects sorted by cell; at most one per cell; (color, shape) unique within a scene. */
export type Scene = readonly Obj[];

export type Edit =
  | { kind: "recolor"; cell: number; color: number }
  | { kind: "resize"; cell: number; size: number }
  | { kind: "remove"; cell: number }
  | { kind: "move"; cell: number; to: number }
  | { kind: "add"; obj: Obj }
  | { kind: "recolor_all"; color: number }
  | { kind: "mirror"; grid: number };
/** The single-object edits (every `edit_mix`). */
export const EDIT_KINDS = ["recolor", "resize", "remove", "move", "add"] as const;
/** Scene-wide edits, `edit_mix: global` only: a per-object change (GTM's FiLM) and a spatial one (attention across regions). */
export const GLOBAL_KINDS = ["recolor_all", "mirror"] as const;
export type EditMix = "local" | "global";

export interface World {
  grid: number;
  colors: number;
  shapes: number;
}

export const sceneKey = (scene: Scene): string =>
  scene.map((o) => `${o.cell}:${o.shape}.${o.color}.${o.size}`).join(",");

export const combo = (o: { color: number; shape: number }): string => `${o.color}.${o.shape}`;

const sorted = (objs: Obj[]): Scene => objs.sort((a, b) => a.cell - b.cell);

/** The cell mirrored left ↔ right. */
export const mirrorCell = (grid: number, cell: number): number => cell - (cell % grid) + (grid - 1 - (cell % grid));

/** The scene after `edit`. */
export function applyEdit(scene: Scene, edit: Edit): Scene {
  switch (edit.kind) {
    case "recolor":
      return scene.map((o) => (o.cell === edit.cell ? { ...o, color: edit.color } : o));
    case "resize":
      return scene.map((o) => (o.cell === edit.cell ? { ...o, size: edit.size } : o));
    case "remove":
      return scene.filter((o) => o.cell !== edit.cell);
    case "move":
      return sorted(scene.map((o) => (o.cell === edit.cell ? { ...o, cell: edit.to } : o)));
    case "add":
      return sorted([...scene, edit.obj]);
    case "recolor_all":
      return scene.map((o) => ({ ...o, color: edit.color }));
    case "mirror":
      return sorted(scene.map((o) => ({ ...o, cell: mirrorCell(edit.grid, o.cell) })));
  }
}

/** Names of the rows and columns of a grid (2 to 4 cells a side). */
function axisNames(grid: number): { rows: string[]; cols: string[] } {
  if (grid === 2) return { rows: ["top", "bottom"], cols: ["left", "right"] };
  if (grid === 3) return { rows: ["top", "middle", "bottom"], cols: ["left", "center", "right"] };
  return { rows: ["top", "upper", "lower", "bottom"], cols: ["left", "inner left", "inner right", "right"] };
}

/** "top left", "top", "center", … for a cell. */
export function cellName(grid: number, cell: number): string {
  const { rows, cols } = axisNames(grid);
  const row = rows[Math.floor(cell / grid)]!;
  const col = cols[cell % grid]!;
  if (grid === 3 && row === "middle") return col === "center" ? "center" : col;
  if (grid === 3 && col === "center") return row;
  return `${row} ${col}`;
}

/** How a text names an object: its shape alone ("the triangle") or colour and shape. */
export const describe = (o: Obj, short: boolean): string =>
  short ? SHAPE_NAMES[o.shape]! : `${COLOR_NAMES[o.color]} ${SHAPE_NAMES[o.shape]}`;

/** True when no other object of the scenes has `o`'s shape, so "the triangle" names it. */
export const shapeUnique = (scenes: readonly Scene[], o: Obj): boolean =>
  scenes.every((s) => s.filter((p) => p.shape === o.shape).length === 1);

const MIRROR_TEXT = "mirror the scene left to right";

/** The modification text of `edit` on `scene`; `short` names the edited object by shape alone. */
export function editText(world: World, scene: Scene, edit: Edit, short: boolean): string {
  if (edit.kind === "add") {
    const o = edit.obj;
    return `add a ${SIZE_NAMES[o.size]} ${COLOR_NAMES[o.color]} ${SHAPE_NAMES[o.shape]} at the ${cellName(world.grid, o.cell)}`;
  }
  if (edit.kind === "recolor_all") return `make every shape ${COLOR_NAMES[edit.color]}`;
  if (edit.kind === "mirror") return MIRROR_TEXT;
  const obj = scene.find((o) => o.cell === edit.cell);
  if (!obj) throw new Error(`shapes: edit refers to empty cell ${edit.cell}`);
  const name = describe(obj, short);
  switch (edit.kind) {
    case "recolor":
      return `make the ${name} ${COLOR_NAMES[edit.color]}`;
    case "resize":
      return `make the ${name} ${SIZE_NAMES[edit.size]}`;
    case "remove":
      return `remove the ${name}`;
    case "move":
      return `move the ${name} to the ${cellName(world.grid, edit.to)}`;
  }
}

/** What a text says about the object it names and the result; parsed from the words alone. */
export interface ParsedText {
  kind: Edit["kind"];
  color?: number; // named object's colour (absent when named by shape alone)
  shape: number;
  newColor?: number;
  newSize?: number;
  cell?: number; // destination (move) or place (add)
  grid?: number; // the grid a mirror flips
}

/** Parses a text made by `editText`; undefined when it is not one. */
export function parseText(world: World, text: string): ParsedText | undefined {
  const color = (w?: string) => (w === undefined ? undefined : (COLOR_NAMES as readonly string[]).indexOf(w));
  const shape = (w: string) => (SHAPE_NAMES as readonly string[]).indexOf(w);
  const size = (w: string) => (SIZE_NAMES as readonly string[]).indexOf(w);
  const cells = Array.from({ length: world.grid * world.grid }, (_, c) => cellName(world.grid, c));
  const cell = (name: string) => cells.indexOf(name);
  let m: RegExpMatchArray | null;
  // scene-wide edits name no object (shape −1)
  if (text === MIRROR_TEXT) return { kind: "mirror", shape: -1, grid: world.grid };
  if ((m = text.match(/^make every shape (\w+)$/))) return { kind: "recolor_all", shape: -1, newColor: color(m[1]) };
  if ((m = text.match(/^add a (\w+) (\w+) (\w+) at the (.+)$/))) {
    return { kind: "add", newSize: size(m[1]!), color: color(m[2]), shape: shape(m[3]!), cell: cell(m[4]!) };
  }
  if ((m = text.match(/^move the (?:(\w+) )?(\w+) to the (.+)$/))) {
    return { kind: "move", color: color(m[1]), shape: shape(m[2]!), cell: cell(m[3]!) };
  }
  if ((m = text.match(/^remove the (?:(\w+) )?(\w+)$/))) return { kind: "remove", color: color(m[1]), shape: shape(m[2]!) };
  if ((m = text.match(/^make the (?:(\w+) )?(\w+) (\w+)$/))) {
    const base = { color: color(m[1]), shape: shape(m[2]!) };
    return size(m[3]!) >= 0
      ? { kind: "resize", ...base, newSize: size(m[3]!) }
      : { kind: "recolor", ...base, newColor: color(m[3]) };
  }
  return undefined;
}

/** The edit a parsed text means on a given reference (the symbolic oracle), or undefined when it does not apply. */
export function resolveText(parsed: ParsedText, reference: Scene): Edit | undefined {
  if (parsed.kind === "add") {
    return { kind: "add", obj: { shape: parsed.shape, color: parsed.color!, size: parsed.newSize!, cell: parsed.cell! } };
  }
  if (parsed.kind === "recolor_all") return { kind: "recolor_all", color: parsed.newColor! };
  if (parsed.kind === "mirror") return { kind: "mirror", grid: parsed.grid! };
  const named = reference.filter((o) => o.shape === parsed.shape && (parsed.color === undefined || o.color === parsed.color));
  if (named.length !== 1) return undefined;
  const cell = named[0]!.cell;
  switch (parsed.kind) {
    case "recolor":
      return { kind: "recolor", cell, color: parsed.newColor! };
    case "resize":
      return { kind: "resize", cell, size: parsed.newSize! };
    case "remove":
      return { kind: "remove", cell };
    case "move":
      return { kind: "move", cell, to: parsed.cell! };
    default:
      return undefined;
  }
}

/**
 * The text-only oracle: does `scene` look like the result of the parsed text on
 * some reference? (The named object, as changed, is present — or absent after a removal.)
 */
export function textSatisfied(parsed: ParsedText, scene: Scene): boolean {
  const match = (o: Obj, color: number | undefined) => o.shape === parsed.shape && (color === undefined || o.color === color);
  switch (parsed.kind) {
    case "add":
      return scene.some((o) => o.cell === parsed.cell && match(o, parsed.color) && o.size === parsed.newSize);
    case "move":
      return scene.some((o) => o.cell === parsed.cell && match(o, parsed.color));
    case "remove":
      return !scene.some((o) => match(o, parsed.color));
    case "recolor":
      return (
        scene.some((o) => match(o, parsed.newColor)) &&
        (parsed.color === undefined || !scene.some((o) => match(o, parsed.color)))
      );
    case "resize":
      return scene.some((o) => match(o, parsed.color) && o.size === parsed.newSize);
    case "recolor_all":
      return scene.length > 0 && scene.every((o) => o.color === parsed.newColor);
    case "mirror":
      return true; // any scene is the mirror of some reference
  }
}
