// A ParamStore's variables to and from plain named tensors (what checkpoints and the
// frozen path-distillation teacher store). One readback per variable, off the hot path.
import * as tf from "@tensorflow/tfjs";
import type { SafeTensor } from "../io/safetensors.js";
import type { ParamStore } from "./scope.js";

/** Plain tensors by name, as a checkpoint file holds them. */
export type StoreTensors = Record<string, { shape: number[]; data: Float32Array | Int32Array }>;

/** Every variable of a store, read back: name → {shape, data}. */
export async function storeTensors(store: ParamStore, prefix = ""): Promise<StoreTensors> {
  const out: StoreTensors = {};
  for (const [name, v] of store.variables) out[prefix + name] = { shape: v.shape, data: (await v.data()) as Float32Array };
  return out;
}

/** Assigns saved values to the store's variables; every variable must be present with its shape. */
export function loadStoreTensors(store: ParamStore, tensors: Record<string, SafeTensor | { shape: number[]; data: Float32Array | Int32Array | Uint8Array }>, where: string, prefix = ""): void {
  for (const [name, v] of store.variables) {
    const saved = tensors[prefix + name];
    if (!saved) throw new Error(`${where}: no tensor "${prefix + name}"; the checkpoint belongs to a different network`);
    if (saved.shape.join(",") !== v.shape.join(",")) {
      throw new Error(`${where}: "${prefix + name}" has shape [${saved.shape}], the network expects [${v.shape}]`);
    }
    tf.tidy(() => v.assign(tf.tensor(saved.data as Float32Array, v.shape, "float32")));
  }
}
