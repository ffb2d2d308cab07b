// `--set key.path=value` overrides: patch the merged tree before validation. The
// value is parsed as YAML (`3`, `true`, `0.5`, `[10, 50]`, `{type: step}`); list
// entries are addressed by index (`fusion.modules.1.heads=4`). Setting `type` (or
// `dataset`) to another name drops the old type's parameters, as extends does.
// Every value set this way is placed at the override, so validation errors name it.
import { parse, YAMLParseError } from "yaml";
import type { Located, Where } from "./located.js";
import { dropPlaces, findPrototypeKey, isMapping, pathKey, placeAll, PROTOTYPE_KEYS, prototypeKeyMessage } from "./located.js";
import type { Problem } from "./problems.js";

/** Applies each `--set` in order to `located` (in place); returns the problems. */
export function applyOverrides(located: Located, sets: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  for (const arg of sets) {
    const file = `--set ${arg}`;
    const fail = (message: string) => problems.push({ file, line: 0, col: 0, message });
    const eq = arg.indexOf("=");
    if (eq <= 0) {
      fail("expected KEY.PATH=VALUE, e.g. --set training.epochs=5");
      continue;
    }
    const keyPath = arg.slice(0, eq).trim();
    const segments = keyPath.split(".");
    if (segments.some((s) => s === "")) {
      fail(`"${keyPath}" is not a key path: use names separated by dots, e.g. training.optimizer.lr`);
      continue;
    }
    const forbidden = segments.find((s) => PROTOTYPE_KEYS.includes(s));
    if (forbidden) {
      fail(prototypeKeyMessage(forbidden));
      continue;
    }
    let value: unknown;
    try {
      value = parse(arg.slice(eq + 1));
    } catch (err) {
      const why = err instanceof YAMLParseError ? err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "") : String(err);
      fail(`the value is not valid YAML: ${why}`);
      continue;
    }
    const inValue = findPrototypeKey(value);
    if (inValue) {
      fail(`in the value: ${prototypeKeyMessage(inValue)}`);
      continue;
    }
    const error = setAt(located, segments, value, { file, value: { line: 0, col: 0 } });
    if (error) fail(error);
  }
  return problems;
}

/** Sets `segments` to `value`, creating mappings on the way; returns an error message or undefined. */
function setAt(located: Located, segments: string[], value: unknown, where: Where): string | undefined {
  let parent: unknown = located.tree;
  const path: (string | number)[] = [];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    const here = path.length ? path.join(".") : "the recipe";
    let key: string | number;
    if (Array.isArray(parent)) {
      const index = Number(seg);
      if (!Number.isInteger(index) || index < 0) return `${here} is a list: address an entry by its index (0 to ${parent.length - 1}), not "${seg}"`;
      if (index >= parent.length) return `${here} has ${parent.length} entries: index ${index} is out of range (0 to ${parent.length - 1})`;
      key = index;
    } else if (isMapping(parent)) {
      key = seg;
    } else {
      return `${here} is ${describe(parent)}, not a mapping: it has no key "${seg}"`;
    }
    path.push(key);
    const container = parent as Record<string | number, unknown>;
    if (last) {
      if ((key === "type" || key === "dataset") && isMapping(parent) && parent[key] !== value) {
        // Another type: the old type's parameters do not apply (as with extends). Keep only the new name.
        for (const k of Object.keys(parent)) delete parent[k];
        dropPlaces(located.places, path.slice(0, -1));
        located.places.set(pathKey(path.slice(0, -1)), where);
      }
      container[key] = value;
      dropPlaces(located.places, path);
      placeAll(located.places, path, value, where);
      return undefined;
    }
    if (container[key] === undefined || container[key] === null) {
      container[key] = {};
      located.places.set(pathKey(path), where);
    }
    parent = container[key];
  }
  return undefined;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return "empty";
  if (typeof v === "string") return `the string "${v}"`;
  return `the ${typeof v} ${String(v)}`;
}
