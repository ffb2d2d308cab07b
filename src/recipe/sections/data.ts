// `data:` — the dataset and its parameters, chosen by `dataset:` among the registered datasets.
import type { KindSchemas } from "../../registry/schema.js";

export const dataSection = (k: KindSchemas) => k.dataset().describe("The dataset, by `dataset:` name, and its parameters (paths relative to the working directory).");
