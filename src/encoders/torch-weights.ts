// Loading torchvision / timm backbone weights (any file readStateDict reads: torch.save's zip or
// legacy .pth, safetensors) into the variables under a scope, and the inverse (our variables in
// PyTorch layout) for tests and the PyTorch reference. The names are the model's own below the
// scope (torchvision's `layer1.0.conv1.weight` is `image.backbone.layer1.0.conv1.weight`); conv
// weights: PyTorch [out, in, kh, kw] ↔ ours [kh, kw, in, out]; 1-D tensors are the same. docs/weights.md.
import * as tf from "@tensorflow/tfjs";
import { readStateDict } from "../io/state-dict.js";
import type { SafeTensor } from "../io/safetensors.js";
import type { ParamScope } from "../nn/scope.js";
import type { PretrainedSource } from "../registry/kinds.js";
import { PretrainedFileError } from "./pretrained.js";

/** Prefixes some checkpoints put before the model's own names (DataParallel, timm wrappers). */
const WRAPPER_PREFIXES = ["module.", "model.", "backbone.", "encoder."];

export const stripWrappers = (key: string) => {
  for (let changed = true; changed; ) {
    changed = false;
    for (const p of WRAPPER_PREFIXES) {
      if (key.startsWith(p)) {
        key = key.slice(p.length);
        changed = true;
      }
    }
  }
  return key;
};

/** The variables under `scope` as (local name, variable), in creation order. */
export function variablesUnder(scope: ParamScope): [string, tf.Variable][] {
  const prefix = `${scope.path}.`;
  return [...scope.store.variables].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]);
}

/** timm and torchvision ResNets share these names; the option names the convention for errors. */
export type Naming = "torchvision" | "timm";

/** Where one of our variables sits in a state dict: its key, its shape there, and how its tensor becomes ours. */
export interface FilePlace {
  key: string;
  shape: readonly number[];
  fromFile: (t: SafeTensor) => tf.Tensor;
}

/**
 * Assigns every variable under `scope` from a state dict's `tensors` (keys stripped of wrapper
 * prefixes), each at `placeOf(its local name, it)`; all or nothing. Returns the count assigned, or
 * the problems (missing keys, tensors of another shape or type, and what the file has instead)
 * with nothing assigned. Keys no variable asks for (a classifier head, the other tower) are ignored.
 */
export function assignAllOrNothing(
  scope: ParamScope,
  tensors: ReadonlyMap<string, SafeTensor>,
  placeOf: (name: string, variable: tf.Variable) => FilePlace,
): { assigned: number } | { problems: string } {
  const byKey = new Map([...tensors].map(([k, t]) => [stripWrappers(k), t]));
  const missing: string[] = [];
  const wrong: string[] = [];
  const assignments: [tf.Variable, tf.Tensor][] = [];
  for (const [name, variable] of variablesUnder(scope)) {
    const place = placeOf(name, variable);
    const t = byKey.get(place.key);
    if (!t) missing.push(place.key);
    else if (t.shape.join(",") !== place.shape.join(",")) wrong.push(`${place.key}: file [${t.shape}], expected [${place.shape}]`);
    else if (!(t.data instanceof Float32Array)) wrong.push(`${place.key}: file ${t.dtype}, expected a float tensor`);
    else assignments.push([variable, place.fromFile(t)]);
  }
  if (missing.length || wrong.length) {
    for (const [, t] of assignments) t.dispose();
    const problems = [
      missing.length ? `${missing.length} missing (e.g. ${missing.slice(0, 3).join(", ")})` : "",
      wrong.length ? `${wrong.length} of another shape or type (${wrong.slice(0, 3).join("; ")})` : "",
    ].filter(Boolean);
    return { problems: `${problems.join(", ")} (the file has ${tensors.size} tensors, e.g. ${[...tensors.keys()].slice(0, 3).join(", ")})` };
  }
  for (const [variable, t] of assignments) {
    variable.assign(t);
    t.dispose();
  }
  return { assigned: assignments.length };
}

/**
 * Assigns every variable under `scope` from `file` (PyTorch names and layout) as the `param`
 * of its encoder. Throws PretrainedFileError listing the missing or mis-shaped names; unused
 * keys (the fc head, num_batches_tracked) are ignored.
 */
export function loadTorchWeights(scope: ParamScope, file: string, naming: Naming, param = "weights"): PretrainedSource {
  const { tensors, format, sha256, bytes } = readStateDict(file);
  const result = assignAllOrNothing(scope, tensors, (name, variable) => {
    const ours = variable.shape;
    return { key: name, shape: ours.length === 4 ? [ours[3]!, ours[2]!, ours[0]!, ours[1]!] : ours, fromFile: fromTorch };
  });
  if ("problems" in result) {
    throw new PretrainedFileError(
      param,
      `${file}: does not fit ${scope.path} with ${naming} names: ${result.problems}; check the encoder type (depth) and naming (docs/weights.md)`,
    );
  }
  return { param, file, sha256, bytes, loaded: `${scope.path}: ${result.assigned} tensors (${format})` };
}

/** A PyTorch-layout tensor as ours (conv [out, in, kh, kw] → [kh, kw, in, out]). */
function fromTorch(t: SafeTensor): tf.Tensor {
  return tf.tidy(() => {
    const x = tf.tensor(t.data as Float32Array, t.shape, "float32");
    return t.shape.length === 4 ? x.transpose([2, 3, 1, 0]) : x;
  });
}

/** The variables under `scope` in PyTorch layout, named as torchvision would (for tests, references). */
export function exportTorchWeights(scope: ParamScope): Record<string, SafeTensor> {
  const out: Record<string, SafeTensor> = {};
  for (const [name, v] of variablesUnder(scope)) {
    const t = tf.tidy(() => (v.rank === 4 ? v.transpose([3, 2, 0, 1]) : v.clone()));
    out[name] = { dtype: "F32", shape: t.shape, data: t.dataSync() as Float32Array };
    t.dispose();
  }
  return out;
}
