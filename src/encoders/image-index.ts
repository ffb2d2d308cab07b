// The built-in image encoders (resnet family, CLIP ViTs and ResNets, small_cnn, features), in the order `sdfn modules` lists them.
import type { DeclarationOf } from "../registry/registry.js";
import { clipRn101, clipRn50, clipRn50x4 } from "./clip-resnet.js";
import { clipVitB16, clipVitB32, clipVitL14 } from "./clip-vit.js";
import { features } from "./features.js";
import { resnet101, resnet18, resnet34, resnet50 } from "./resnet.js";
import { smallCnn } from "./small-cnn.js";

export const builtinImageEncoders: DeclarationOf<"image_encoder">[] = [
  resnet18,
  resnet34,
  resnet50,
  resnet101,
  clipVitB32,
  clipVitB16,
  clipVitL14,
  clipRn50,
  clipRn101,
  clipRn50x4,
  smallCnn,
  features,
];
