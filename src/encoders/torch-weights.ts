// Loading PyTorch (torchvision / timm) backbone weights from a local safetensors file into
// the variables under a scope, and the inverse (our variables in PyTorch layout) for tests
// and the PyTorch reference. Conv weights: PyTorch [out, in, kh, kw] ↔ ours [kh, kw, in, out];
// 1-D tensors (batch norm, biases) are the same. See docs/weights.md.
import * as tf from "@tensorflow/tfjs";
import { readSafetensors, type SafeTensor } from "../io/safetensors.js";
import type { ParamScope } from "../nn/scope.js";

/** Prefixes some checkpoints put before the model's own names (DataParallel, timm wrappers). */
const WRAPPER_PREFIXES = ["module.", "model.", "backbone.", "encoder."];

const stripWrappers = (key: string) => {
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
function variablesUnder(scope: ParamScope): [string, tf.Variable][] {
  const prefix = `${scope.path}.`;
  return [...scope.store.variables].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]);
}

/** timm and torchvision ResNets share these names; the option names the convention for errors. */
export type Naming = "torchvision" | "timm";

/**
 * Assigns every variable under `scope` from `file` (safetensors, PyTorch layout).
 * Throws listing the missing or mis-shaped names; unused keys (the fc head, num_batches_tracked) are ignored.
 */
export function loadTorchWeights(scope: ParamScope, file: string, naming: Naming): void {
  const { tensors } = readSafetensors(file);
  const byName = new Map(Object.entries(tensors).map(([k, t]) => [stripWrappers(k), t]));
  const missing: string[] = [];
  const wrongShape: string[] = [];
  const assignments: [tf.Variable, tf.Tensor][] = [];
  for (const [name, variable] of variablesUnder(scope)) {
    const t = byName.get(name);
    if (!t) {
      missing.push(name);
      continue;
    }
    const ours = variable.shape;
    const theirs = ours.length === 4 ? [ours[3]!, ours[2]!, ours[0]!, ours[1]!] : ours;
    if (t.shape.join(",") !== theirs.join(",")) {
      wrongShape.push(`${name}: file [${t.shape}], expected [${theirs}]`);
      continue;
    }
    assignments.push([variable, fromTorch(t)]);
  }
  if (missing.length || wrongShape.length) {
    for (const [, t] of assignments) t.dispose();
    const problems = [
      missing.length ? `${missing.length} missing (e.g. ${missing.slice(0, 3).join(", ")})` : "",
      wrongShape.length ? `${wrongShape.length} of another shape (${wrongShape.slice(0, 3).join("; ")})` : "",
    ].filter(Boolean);
    throw new Error(
      `${file}: does not fit ${scope.path} with ${naming} names: ${problems.join(", ")}; ` +
        `check the encoder type (depth) and naming (docs/weights.md)`,
    );
  }
  for (const [variable, t] of assignments) {
    variable.assign(t);
    t.dispose();
  }
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
