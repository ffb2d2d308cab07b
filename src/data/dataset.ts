// The typed constructor for dataset declarations (the registry kind "dataset").
import type { z } from "zod";
import type { Declaration } from "../registry/registry.js";
import type { DatasetBuildContext, DatasetSource } from "./types.js";

export const defineDataset = <P extends z.ZodObject>(
  d: Declaration<P, DatasetBuildContext, Promise<DatasetSource>>,
) => d;
