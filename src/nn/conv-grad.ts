// A conv2d whose filter gradient is computed by a forward convolution (channels as
// batch, batch as channels, stride as dilation). The pure-JS cpu backend's
// Conv2DBackpropFilter is a naive loop, 10–40× slower than this on small convs;
// the input gradient stays tfjs's own (conv2dTranspose). Used on the cpu backend only.
import * as tf from "@tensorflow/tfjs";

/** dW (k, k, Ci, Co) of y = conv2d(x, W, stride, pad) given dy (B, Ho, Wo, Co). */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, stride: number, pad: number): tf.Tensor4D {
  return tf.tidy(() => {
    const ci = x.shape[3];
    const co = dy.shape[3];
    const xt = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D; // (Ci, H, W, B)
    const f = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // (Ho, Wo, B, Co)
    // (Ci, H + 2p − s(Ho − 1), …, Co): the first k rows/cols are dW; the rest (inputs a strided conv never reads) is cut off.
    const padding: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [pad, pad], [pad, pad], [0, 0]];
    const full = tf.conv2d(xt, f, 1, pad === 0 ? "valid" : padding, "NHWC", stride);
    const r = full.shape[1] === k && full.shape[2] === k ? full : tf.slice(full, [0, 0, 0, 0], [ci, k, k, co]);
    return tf.transpose(r, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/** tf.conv2d(x, w, stride, pad) (symmetric zero padding) with the fast filter gradient above. */
export function conv2dFastGrad(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  const k = w.shape[0];
  const padArg = pad === 0 ? "valid" : pad;
  const f = tf.customGrad(((xi: tf.Tensor, wi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xi, wi]);
    return {
      value: tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, stride, padArg),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dx = tf.conv2dTranspose(dy as tf.Tensor4D, sw, sx.shape, stride, padArg);
        return [dx, conv2dFilterGrad(sx, dy as tf.Tensor4D, k, stride, pad)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, w) as tf.Tensor4D;
}
