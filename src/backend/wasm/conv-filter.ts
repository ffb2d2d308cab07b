// Conv2DBackpropFilter for tfjs-backend-wasm, which lacks it (4.22): the convolution's weight
// gradient dW[kh, kw, ci, co] = Σ_{b, oy, ox} x[b, oy·s − pad + kh, ox·s − pad + kw, ci] · dy[b, oy, ox, co],
// a direct loop over the backend's heap views (NHWC with the output channels innermost, so
// the inner loop runs over contiguous memory; NCHW too). Dilated filters have no gradient in tfjs.
import * as tf from "@tensorflow/tfjs";
import { heapOutput, wasmKernel, type WasmHeap } from "./heap.js";

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** dW accumulated in float64 (as the cpu kernel does), channels-last. */
function filterGradNHWC(x: ArrayLike<number>, dy: ArrayLike<number>, c: Conv2DInfo): Float64Array {
  const { batchSize, inHeight, inWidth, inChannels: ci, outHeight, outWidth, outChannels: co, filterHeight, filterWidth } = c;
  const { strideHeight: sh, strideWidth: sw } = c;
  const { top, left } = c.padInfo;
  const dw = new Float64Array(filterHeight * filterWidth * ci * co);
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        const dyOff = ((b * outHeight + oy) * outWidth + ox) * co;
        for (let kh = 0; kh < filterHeight; kh++) {
          const iy = oy * sh - top + kh;
          if (iy < 0 || iy >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const ix = ox * sw - left + kw;
            if (ix < 0 || ix >= inWidth) continue;
            const xOff = ((b * inHeight + iy) * inWidth + ix) * ci;
            const wOff = (kh * filterWidth + kw) * ci * co;
            for (let i = 0; i < ci; i++) {
              const xv = x[xOff + i]!;
              if (xv === 0) continue; // post-ReLU inputs are often zero
              const row = wOff + i * co;
              for (let o = 0; o < co; o++) dw[row + o]! += xv * dy[dyOff + o]!;
            }
          }
        }
      }
    }
  }
  return dw;
}

/** The same sum for channels-first x (B, C, H, W) and dy (B, C', H', W'); dW is (kh, kw, ci, co) either way. */
function filterGradNCHW(x: ArrayLike<number>, dy: ArrayLike<number>, c: Conv2DInfo): Float64Array {
  const { batchSize, inHeight, inWidth, inChannels: ci, outHeight, outWidth, outChannels: co, filterHeight, filterWidth } = c;
  const { strideHeight: sh, strideWidth: sw } = c;
  const { top, left } = c.padInfo;
  const dw = new Float64Array(filterHeight * filterWidth * ci * co);
  for (let b = 0; b < batchSize; b++) {
    for (let i = 0; i < ci; i++) {
      for (let o = 0; o < co; o++) {
        const xPlane = (b * ci + i) * inHeight * inWidth;
        const dyPlane = (b * co + o) * outHeight * outWidth;
        for (let kh = 0; kh < filterHeight; kh++) {
          for (let kw = 0; kw < filterWidth; kw++) {
            let sum = 0;
            for (let oy = 0; oy < outHeight; oy++) {
              const iy = oy * sh - top + kh;
              if (iy < 0 || iy >= inHeight) continue;
              for (let ox = 0; ox < outWidth; ox++) {
                const ix = ox * sw - left + kw;
                if (ix >= 0 && ix < inWidth) sum += x[xPlane + iy * inWidth + ix]! * dy[dyPlane + oy * outWidth + ox]!;
              }
            }
            dw[((kh * filterWidth + kw) * ci + i) * co + o]! += sum;
          }
        }
      }
    }
  }
  return dw;
}

function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: WasmHeap; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const backend = args.backend;
  const dataFormat = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    dataFormat,
  );
  const xs = backend.typedArrayFromHeap(x);
  const dys = backend.typedArrayFromHeap(dy);
  const dw = info.dataFormat === "channelsLast" ? filterGradNHWC(xs, dys, info) : filterGradNCHW(xs, dys, info);
  return heapOutput(backend, info.filterShape, "float32", dw);
}

export const wasmConv2DBackpropFilter = wasmKernel(tf.Conv2DBackpropFilter, conv2DBackpropFilter);
