// What every built-in image encoder shares: an optional backbone (images → feature maps)
// and the 1×1 conv `proj` to d that turns the maps into region tokens.
import * as tf from "@tensorflow/tfjs";
import { conv2d } from "../nn/conv.js";
import type { ParamScope } from "../nn/scope.js";
import type { ForwardContext, ImageEncoder } from "../registry/kinds.js";

export interface Backbone {
  channels: number;
  frozen: boolean;
  apply(images: tf.Tensor4D, fc: ForwardContext): tf.Tensor4D;
  /** Feature-map side for a square input of `size` px. */
  grid(size: number): number;
}

/**
 * `scope.proj.weight` [1, 1, C, d], `scope.proj.bias` [d]. `encode` takes images, or feature
 * maps with C channels (C ≠ 3) which skip the backbone (cached features of a frozen backbone).
 */
export function projectedEncoder(scope: ParamScope, dim: number, channels: number, backbone?: Backbone): ImageEncoder {
  const proj = conv2d(scope.child("proj"), { kernel: 1, inChannels: channels, outChannels: dim, bias: true });
  const project = (maps: tf.Tensor4D) =>
    tf.tidy(() => {
      const [b, h, w] = maps.shape;
      return proj.apply(maps).reshape([b, h * w, dim]) as tf.Tensor3D;
    });
  const isMaps = (x: tf.Tensor4D) => x.shape[3] === channels && (channels !== 3 || !backbone);
  return {
    featureChannels: channels,
    backboneFrozen: backbone ? backbone.frozen : true,
    backbone: backbone ? (images, fc) => backbone.apply(images, fc) : undefined,
    project,
    // without a backbone the map size depends on whoever computed the maps: unknown here
    grid: backbone ? (size) => backbone.grid(size) : undefined,
    encode: (images, fc) => {
      if (isMaps(images)) return project(images);
      if (!backbone) {
        throw new Error(
          `${scope.path}: expected feature maps (B, h, w, ${channels}), got shape [${images.shape}]; ` +
            `set the encoder's channels to the stored maps' channels`,
        );
      }
      return tf.tidy(() => project(backbone.apply(images, fc)));
    },
  };
}
