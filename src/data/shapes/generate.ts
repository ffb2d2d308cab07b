// Generates the shapes dataset. Training: random scenes with one random edit each.
// Evaluation, in groups: K reference scenes that share two "anchor" objects and
// three empty "reserved" cells (they differ in 1–2 free objects), and E edits that
// touch only anchors and reserved cells, so every edit applies to every reference.
// The gallery holds all K × E targets: each query's target has E−1 neighbours made
// from the same reference (image alone cannot tell them apart) and K−1 made by the
// same text (text alone cannot either); only reference + text single it out.
import type { Rng } from "../../util/rng.js";
import { DataError } from "../data-error.js";
import type { EvalQuery, EvalSet, Pair } from "../types.js";
import {
  applyEdit,
  combo,
  EDIT_KINDS,
  editText,
  GLOBAL_KINDS,
  mirrorCell,
  sceneKey,
  shapeUnique,
  type Edit,
  type EditMix,
  type Obj,
  type Scene,
  type World,
} from "./scene.js";

export interface ShapesConfig extends World {
  train_pairs: number;
  test_groups: number;
  test_references: number;
  test_edits: number;
  test_queries: number;
  /** local (default): single-object edits; global: also scene-wide ones (recolor every shape, mirror). */
  edit_mix?: EditMix;
}

export interface GeneratedShapes {
  /** Every image id → its scene. */
  scenes: Map<string, Scene>;
  train: Pair[];
  evalSet: EvalSet;
}

/** Objects per scene: about a third of the cells, plus one. */
export function objectRange(world: World): [number, number] {
  const cells = world.grid * world.grid;
  const lo = Math.max(1, Math.round(cells / 3));
  return [lo, Math.min(cells - 1, lo + 1)];
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)]!;

function allCombos(world: World): { color: number; shape: number }[] {
  const out = [];
  for (let color = 0; color < world.colors; color++) for (let shape = 0; shape < world.shapes; shape++) out.push({ color, shape });
  return out;
}

/** `n` objects in distinct cells among `cells`, with distinct combos among `combos`. */
function placeObjects(rng: Rng, n: number, cells: readonly number[], combos: readonly { color: number; shape: number }[]): Obj[] {
  const where = rng.shuffle(cells).slice(0, n);
  const what = rng.shuffle(combos).slice(0, n);
  return where.map((cell, i) => ({ ...what[i]!, size: rng.int(2), cell }));
}

function randomScene(rng: Rng, world: World): Scene {
  const [lo, hi] = objectRange(world);
  const cells = Array.from({ length: world.grid * world.grid }, (_, c) => c);
  return placeObjects(rng, lo + rng.int(hi - lo + 1), cells, allCombos(world)).sort((a, b) => a.cell - b.cell);
}

/** Scene-wide edits that change `scene`: every shape one colour (not all that colour already), the mirror (not symmetric). */
function globalEdits(world: World, scene: Scene): [Edit["kind"], Edit[]][] {
  const recolors: Edit[] = [];
  for (let color = 0; color < world.colors; color++) if (scene.some((o) => o.color !== color)) recolors.push({ kind: "recolor_all", color });
  const mirror: Edit = { kind: "mirror", grid: world.grid };
  const mirrors = sceneKey(applyEdit(scene, mirror)) === sceneKey(scene) ? [] : [mirror];
  return [
    [GLOBAL_KINDS[0], recolors],
    [GLOBAL_KINDS[1], mirrors],
  ];
}

/** Every edit that applies to `scene`, by kind (a new colour or added object never duplicates a combo). */
function candidateEdits(world: World, scene: Scene, mix: EditMix = "local"): Map<Edit["kind"], Edit[]> {
  const used = new Set(scene.map(combo));
  const empty = Array.from({ length: world.grid * world.grid }, (_, c) => c).filter((c) => !scene.some((o) => o.cell === c));
  const out = new Map<Edit["kind"], Edit[]>(EDIT_KINDS.map((k) => [k, []]));
  for (const o of scene) {
    for (let color = 0; color < world.colors; color++) {
      if (!used.has(combo({ color, shape: o.shape }))) out.get("recolor")!.push({ kind: "recolor", cell: o.cell, color });
    }
    out.get("resize")!.push({ kind: "resize", cell: o.cell, size: 1 - o.size });
    if (scene.length > 1) out.get("remove")!.push({ kind: "remove", cell: o.cell });
    for (const to of empty) out.get("move")!.push({ kind: "move", cell: o.cell, to });
  }
  for (const c of allCombos(world).filter((c) => !used.has(combo(c)))) {
    for (const cell of empty) for (let size = 0; size < 2; size++) out.get("add")!.push({ kind: "add", obj: { ...c, size, cell } });
  }
  if (mix === "global") for (const [kind, edits] of globalEdits(world, scene)) out.set(kind, edits);
  return out;
}

/** Up to `n` distinct edits: a kind drawn uniformly among those left, then an edit of that kind. */
function drawEdits(rng: Rng, candidates: Map<Edit["kind"], Edit[]>, n: number): Edit[] {
  if (n === 1) {
    const kinds = [...candidates.keys()].filter((k) => candidates.get(k)!.length > 0);
    return kinds.length > 0 ? [pick(rng, candidates.get(pick(rng, kinds))!)] : [];
  }
  const pools = new Map([...candidates].map(([k, v]) => [k, rng.shuffle(v)]));
  const out: Edit[] = [];
  while (out.length < n) {
    const kinds = [...pools.keys()].filter((k) => pools.get(k)!.length > 0);
    if (kinds.length === 0) break;
    out.push(pools.get(pick(rng, kinds))!.pop()!);
  }
  return out;
}

/** The object an edit names (undefined for additions). */
const namedObject = (scene: Scene, edit: Edit): Obj | undefined =>
  "cell" in edit ? scene.find((o) => o.cell === edit.cell) : undefined;

function generateTrain(rng: Rng, world: World, n: number, scenes: Map<string, Scene>, mix: EditMix = "local"): Pair[] {
  const pairs: Pair[] = [];
  for (let id = 0; id < n; id++) {
    const reference = randomScene(rng, world);
    const [edit] = drawEdits(rng, candidateEdits(world, reference, mix), 1);
    const named = namedObject(reference, edit!);
    const short = named !== undefined && shapeUnique([reference], named) && rng.next() < 0.5;
    const ids = { reference: `train/${id}/ref`, target: `train/${id}/tgt` };
    scenes.set(ids.reference, reference);
    scenes.set(ids.target, applyEdit(reference, edit!));
    pairs.push({ id, ...ids, text: editText(world, reference, edit!, short) });
  }
  return pairs;
}

interface Group {
  members: Scene[];
  edits: Edit[];
  /** Per edit: name the object by shape alone (unique in every member). */
  short: boolean[];
}

function generateGroup(rng: Rng, world: World, K: number, E: number, mix: EditMix = "local"): Group {
  const cells = rng.shuffle(Array.from({ length: world.grid * world.grid }, (_, c) => c));
  const [lo, hi] = objectRange(world);
  const nReserved = Math.max(1, Math.round(cells.length / 3));
  const [anchorCells, reserved, freeCells] = [cells.slice(0, 2), cells.slice(2, 2 + nReserved), cells.slice(2 + nReserved)];
  const combos = rng.shuffle(allCombos(world));
  // Combos: 2 for the anchors, a few only free objects use, the rest only edits introduce.
  const nFreeCombos = Math.min(3, Math.max(1, combos.length - 3));
  const anchors = anchorCells.map((cell, i) => ({ ...combos[i]!, size: rng.int(2), cell }));
  const freeCombos = combos.slice(2, 2 + nFreeCombos);
  const skeleton = anchors.slice().sort((a, b) => a.cell - b.cell);
  // Candidates on the skeleton restricted to anchors and reserved cells; free combos stay out of edits.
  const freeSet = new Set(freeCombos.map(combo));
  const raw = candidateEdits(world, skeleton, mix);
  const allowed = (e: Edit) =>
    e.kind === "add"
      ? reserved.includes(e.obj.cell) && !freeSet.has(combo(e.obj))
      : e.kind === "move"
        ? reserved.includes(e.to)
        : e.kind === "recolor"
          ? !freeSet.has(combo({ color: e.color, shape: skeleton.find((o) => o.cell === e.cell)!.shape }))
          : e.kind === "recolor_all"
            ? e.color !== anchors[0]!.color // the first anchor changes, so no member stays as it was
            : e.kind === "mirror"
              ? anchors.some((a) => mirrorCell(world.grid, a.cell) !== a.cell) // an anchor moves
              : true;
  const edits = drawEdits(rng, new Map([...raw].map(([k, v]) => [k, v.filter(allowed)])), E);
  const members = new Map<string, Scene>();
  const nFree = [Math.max(1, lo - 2), Math.max(1, Math.min(freeCells.length, hi - 2))];
  for (let attempt = 0; members.size < K && attempt < K * 50; attempt++) {
    const n = nFree[0]! + rng.int(nFree[1]! - nFree[0]! + 1);
    const scene = [...anchors, ...placeObjects(rng, n, freeCells, freeCombos)].sort((a, b) => a.cell - b.cell);
    members.set(sceneKey(scene), scene);
  }
  if (members.size < K) {
    throw new DataError(`shapes: only ${members.size} distinct reference scenes fit a group of data.test_references = ${K}; lower data.test_references or raise data.colors/shapes/grid`);
  }
  const list = [...members.values()];
  const short = edits.map((e) => {
    const named = namedObject(skeleton, e);
    return named !== undefined && shapeUnique(list, named) && rng.next() < 0.5;
  });
  return { members: list, edits, short };
}

function generateEval(rng: Rng, config: ShapesConfig, scenes: Map<string, Scene>): EvalSet {
  const gallery: string[] = [];
  const galleryIndex = new Map<string, number>(); // scene key → gallery index
  const queries: EvalQuery[] = [];
  for (let g = 0; g < config.test_groups; g++) {
    const group = generateGroup(rng, config, config.test_references, config.test_edits, config.edit_mix);
    group.members.forEach((reference, k) => {
      const refId = `test/${g}/${k}`;
      scenes.set(refId, reference);
      group.edits.forEach((edit, j) => {
        const target = applyEdit(reference, edit);
        const key = sceneKey(target);
        if (!galleryIndex.has(key)) {
          const id = `test/${g}/${k}/${j}`;
          scenes.set(id, target);
          galleryIndex.set(key, gallery.push(id) - 1);
        }
        const text = editText(config, reference, edit, group.short[j]!);
        queries.push({ reference: refId, text, positives: [galleryIndex.get(key)!], exclude: [], kind: edit.kind });
      });
    });
  }
  const kept =
    config.test_queries > 0 && config.test_queries < queries.length
      ? rng.shuffle(queries.map((_, i) => i)).slice(0, config.test_queries).sort((a, b) => a - b)
      : queries.map((_, i) => i);
  return { name: "shapes", gallery, queries: kept.map((i) => queries[i]!) };
}

/** The whole dataset, deterministic in `rng`'s seed. */
export function generateShapes(rng: Rng, config: ShapesConfig): GeneratedShapes {
  const scenes = new Map<string, Scene>();
  const train = generateTrain(rng.fork(1), config, config.train_pairs, scenes, config.edit_mix);
  const evalSet = generateEval(rng.fork(2), config, scenes);
  return { scenes, train, evalSet };
}
