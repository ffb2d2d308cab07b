// What every forward pass receives: the training flag and a seed source for
// dropout. Lives at the bottom of the layers (nn/) so layers, modules, encoders,
// the graph, the trainer and evaluation all share one definition.

/** Per-forward-pass state: training flag and a seed source for dropout. */
export interface ForwardContext {
  training: boolean;
  /** A fresh integer seed (deterministic given the recipe seed and step). */
  seed(): number;
}

/** Inference: no dropout, batch norm from running statistics. */
export const inference: ForwardContext = { training: false, seed: () => 0 };
