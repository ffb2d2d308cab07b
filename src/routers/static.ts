// static: uniform routing with no parameters (the baseline without routing).
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { defineRouter } from "../registry/define.js";

export const staticRouter = defineRouter({
  name: "static",
  doc: "Uniform routing, no parameters: every path gets the same weight (the no-routing baseline).",
  params: z.object({}),
  build: (_p, { senders, receivers, final }) => ({
    // hidden layers: 1/R to each receiver; last layer: 1/M for each sender
    route: (pooled) => tf.fill([pooled.shape[0], senders, receivers], final ? 1 / senders : 1 / receivers) as tf.Tensor3D,
  }),
});
