// training.precision: fp32, or bf16 autocast on the torch backend (convolutions and matrix
// products take bfloat16 operands; weights, optimizer state, reductions, softmax and losses
// stay fp32: native/src/precision.h). Other backends compute in fp32 only.
import * as tf from "@tensorflow/tfjs";

import type { TorchBackend } from "./torch/backend.js";
import type { TorchAddon } from "./torch/native.js";

export const precisions = ["fp32", "bf16"] as const;
export type Precision = (typeof precisions)[number];

/** Sets the active backend's compute precision; bf16 anywhere but on torch is an error that says what to change. */
export function setPrecision(precision: Precision): void {
  const name = tf.getBackend();
  if (name !== "torch") {
    if (precision === "fp32") return;
    throw new Error(
      `training.precision: ${precision} needs the torch backend (bf16 autocast runs there only), but this run uses "${name}"; ` +
        "set backend: torch (build the addon with `npm run build:native`) or training.precision: fp32",
    );
  }
  const addon = (tf.backend() as TorchBackend).native.addon as TorchAddon & { setPrecision?(p: Precision): void };
  if (typeof addon.setPrecision !== "function") {
    throw new Error(`training.precision: the native addon predates mixed precision; rebuild it with \`npm run build:native\``);
  }
  addon.setPrecision(precision);
}
