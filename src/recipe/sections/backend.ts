// `backend:` — which TensorFlow.js backend runs the recipe (src/backend chooses and starts it).
import { z } from "zod";

/** Backend names a recipe may give; `auto` picks the fastest available. Add new backends here. */
export const BACKENDS = ["auto", "cpu", "torch", "wasm", "tensorflow", "webgpu"] as const;

export const backendSection = () =>
  z
    .enum(BACKENDS)
    .default("auto")
    .describe(
      "TensorFlow.js backend: auto (fastest available), cpu (pure JS), torch (libtorch addon), wasm, tensorflow (tfjs-node), webgpu. `sdfn build --backend` overrides it.",
    );
