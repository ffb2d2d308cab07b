// A conv2d whose filter gradient is computed by a forward convolution (channels as
// batch, batch as channels, stride as dilation). The pure-JS cpu backend's
// Conv2DBackpropFilter is a naive loop, 10–40× slower than this on small convs;
// the input gradient stays tfjs's own (conv2dTranspose). Used on the cpu backend only.
import * as tf from "@tensorflow/tfjs";

/** dW (k, k, Ci, Co) of y = conv2d(x, W, stride, pad) given dy (B, Ho, Wo, Co). */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, stride: number, pad: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, , , ci] = x.shape;
    const [, ho, wo] = dy.shape;
    // The input rows/cols the convolution actually reads: (k − 1) + stride·(Ho − 1) + 1.
    const needH = k + stride * (ho - 1);
    const needW = k + stride * (wo - 1);
    const padded = pad > 0 ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
    const used = tf.slice(padded, [0, 0, 0, 0], [b, needH, needW, ci]);
    const xt = tf.transpose(used, [3, 1, 2, 0]) as tf.Tensor4D; // (Ci, H', W', B)
    const f = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // (Ho, Wo, B, Co)
    const r = tf.conv2d(xt, f, 1, "valid", "NHWC", stride); // (Ci, k, k, Co)
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
