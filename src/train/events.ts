// The events a run emits. The trainer produces them; the Ink dashboard, the
// plain/JSON-lines logger, metrics.jsonl and the report consume them. Library
// code never prints: it emits these. Epochs are 0-based indices here; files and
// messages number them from 1 (the conversion: src/run/epochs.ts).

export interface RunInfo {
  recipeName: string;
  runDir: string;
  backend: string; // "cpu", "torch", "wasm", …
  device: string; // "cpu", "cuda:0", …
  parameters: number; // trainable parameter count
  epochs: number;
  stepsPerEpoch: number;
  batchSize: number;
  /** Module type names per fusion layer, e.g. [["JRM","CAM","GTM","RCM"], …]. */
  layers: string[][];
  /** Loss component names, e.g. ["batch_classification", "consistency", "path_distillation"]. */
  losses: string[];
  startEpoch: number; // > 0 when resumed
  /** Files only (metrics.jsonl, JSON output): 1 = this run's epoch numbers start at 1 (src/run/epochs.ts). */
  epochsFrom?: 1;
  /** Processes training together (data-parallel; absent or 1 for one process); batchSize is per process. */
  world?: number;
}

export type TrainEvent =
  | { type: "start"; time: number; info: RunInfo }
  | {
      type: "step";
      time: number;
      epoch: number; // 0-based
      step: number; // global step, 0-based
      epochStep: number; // step within the epoch, 0-based
      stepsPerEpoch: number;
      /** Weighted loss components by name, and their sum. */
      losses: Record<string, number>;
      total: number;
      lr: number;
      /** This epoch's samples per second so far (at its last step, the epoch event's figure). */
      samplesPerSec: number;
      /**
       * Routing made visible: one row per fusion layer, one value per module: for
       * layer l > 1 the mean weight module j receives from layer l−1's routers;
       * for layer 1 the mean output weight w_j is given in the last row instead.
       * Rows: L rows — rows 0..L−2 are incoming weights of layers 2..L, row L−1 is w.
       */
      routing: number[][];
      /** Data-parallel runs: the ranks, and the slowest rank's step time without its waits for the others. */
      world?: number;
      slowestStepMs?: number;
      slowestRank?: number;
      /** Data-parallel runs: this rank's time in collectives during the step, and their payload. */
      allreduceMs?: number;
      allreduceBytes?: number;
    }
  | {
      type: "epoch";
      time: number;
      epoch: number;
      losses: Record<string, number>;
      seconds: number;
      samplesPerSec: number;
      /** With training.compile on torch: programs built, steps replayed and steps run eagerly in this epoch. */
      compiled?: { programs: number; replayed: number; eager: number };
    }
  | {
      type: "evaluation";
      time: number;
      epoch: number;
      /** Metric name → value in percent, e.g. "dress/R@10": 24.3, "avg/R@10": 27.1. */
      metrics: Record<string, number>;
      /** The metric that selects the best checkpoint, and its value. */
      primary: { name: string; value: number };
      best: boolean;
      /** Reference recalls on the same sets (chance, and the dataset's single-modality baselines): name → metric → percent. */
      baselines?: Record<string, Record<string, number>>;
    }
  | { type: "checkpoint"; time: number; epoch: number; step: number; path: string; reason: "epoch" | "best" | "interrupt" | "every" }
  | { type: "warning"; time: number; message: string }
  /** A preparation before the start (data.check_images: full decoding every image): `done` of `total`. Not in metrics.jsonl. */
  | { type: "progress"; time: number; task: string; done: number; total: number }
  | { type: "stopped"; time: number; reason: "interrupt" | "non-finite-loss"; message: string; resumeCommand?: string }
  | { type: "end"; time: number; summary: Record<string, unknown> };

export type EventSink = (event: TrainEvent) => void;
