// `encoders:` — the image encoder (reference and target images → region tokens) and the text encoder.
import { z } from "zod";
import type { KindSchemas } from "../../registry/schema.js";

export const encodersSection = (k: KindSchemas) =>
  z
    .strictObject({
      image: k.slot("image_encoder").describe("Image encoder, shared by reference and target: `type:` and its parameters. Its `dim` is the fusion width d."),
      text: k.slot("text_encoder").describe("Text encoder for the modification text: `type:` and its parameters."),
    })
    .describe("The image and text encoders.");
