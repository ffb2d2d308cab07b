// Every kernel the torch backend implements natively (the rest run through the cpu backend), one
// family per file, each with its native twin native/src/ops/<family>.cc and its layouts.json section.
import type { KernelConfig } from "@tensorflow/tfjs";

import { elementwiseKernels } from "./elementwise.js";
import { layoutKernels } from "./layout.js";
import { nnKernels } from "./nn.js";
import { randomKernels } from "./random.js";
import { reduceKernels } from "./reduce.js";
import { sdfnKernels } from "./sdfn.js";

export const torchKernels: Omit<KernelConfig, "backendName">[] = [...elementwiseKernels, ...reduceKernels, ...layoutKernels, ...nnKernels, ...sdfnKernels, ...randomKernels];
