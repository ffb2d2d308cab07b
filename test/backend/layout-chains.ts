// Conv / batch-norm / pooling chains as data, run on the current tfjs backend: the chains of
// layout-chains.test.ts, which runs them on the torch backend under every forward-convolution
// format and several oneDNN ISA caps, and compares each forward and every gradient with PyTorch's
// float64 autograd of the same chain (bench/reference/chains.py reads the same specs).
import * as tf from "@tensorflow/tfjs";

import { batchNormTrain } from "../../src/backend/batch-norm.js";
import type { PlainTensor } from "../../bench/reference/exchange.js";
import { Rng } from "../../src/util/rng.js";

/** tfjs padding: symmetric per side, or TensorFlow's "same" (asymmetric when the total is odd). */
type Pad = number | "same" | "valid";

export type Layer =
  | { op: "conv"; k: number; stride?: number; pad?: Pad; out: number; depthwise?: boolean }
  | { op: "bn"; train: boolean }
  | { op: "relu" }
  | { op: "maxpool"; k: number; stride: number; pad: Pad }
  | { op: "residual"; body: Layer[]; shortcut: Layer[] };

export interface Chain {
  name: string;
  /** The input as the chain sees it: N, H, W, C. */
  input: [number, number, number, number];
  layers: Layer[];
}

/**
 * How the chain's input and filters reach the kernels: as contiguous NHWC tensors, as NHWC views
 * of NCHW tensors (a transpose, as tfjs's own graphs make), as a slice of a wider tensor, or with
 * every filter a view of an OIHW tensor. The torch backend passes views on to ATen as strided
 * tensors; every kernel must read them by their strides.
 */
export const INPUT_FORMS = ["contiguous", "nchw_view", "sliced", "filter_views"] as const;
export type InputForm = (typeof INPUT_FORMS)[number];

/** The environment that picks the CPU kernels of a process: the forward-convolution format, oneDNN's ISA cap, ATen's kernel level. */
export const ENV_KEYS = ["SDFN_TORCH_CONV_FORMAT", "ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY"] as const;

export const CHAINS: Chain[] = [
  {
    name: "stem: conv 7x7 s2 (3 channels) → batch norm (batch) → relu → max-pool 3 s2",
    input: [2, 12, 12, 3],
    layers: [{ op: "conv", k: 7, stride: 2, pad: 3, out: 8 }, { op: "bn", train: true }, { op: "relu" }, { op: "maxpool", k: 3, stride: 2, pad: 1 }],
  },
  {
    name: "basic block: conv 3x3 → bn (running) → relu → conv 3x3 → bn (batch) + identity → relu",
    input: [2, 6, 6, 8],
    layers: [
      {
        op: "residual",
        body: [{ op: "conv", k: 3, pad: 1, out: 8 }, { op: "bn", train: false }, { op: "relu" }, { op: "conv", k: 3, pad: 1, out: 8 }, { op: "bn", train: true }],
        shortcut: [],
      },
      { op: "relu" },
    ],
  },
  {
    name: "bottleneck with a strided 1x1 shortcut (conv 1x1 → 3x3 s2 → 1x1, each + bn (batch))",
    input: [2, 7, 7, 8],
    layers: [
      {
        op: "residual",
        body: [
          { op: "conv", k: 1, out: 4 }, { op: "bn", train: true }, { op: "relu" },
          { op: "conv", k: 3, stride: 2, pad: 1, out: 4 }, { op: "bn", train: true }, { op: "relu" },
          { op: "conv", k: 1, out: 16 }, { op: "bn", train: true },
        ],
        shortcut: [{ op: "conv", k: 1, stride: 2, out: 16 }, { op: "bn", train: true }],
      },
      { op: "relu" },
    ],
  },
  {
    name: "'same' padding, odd totals (asymmetric): conv 3x3 s2 → relu → conv 2x2 → max-pool 2 s2 'same' → conv 1x1",
    input: [2, 8, 8, 6],
    layers: [
      { op: "conv", k: 3, stride: 2, pad: "same", out: 8 }, { op: "relu" },
      { op: "conv", k: 2, pad: "same", out: 8 },
      { op: "maxpool", k: 2, stride: 2, pad: "same" },
      { op: "conv", k: 1, out: 4 },
    ],
  },
  {
    name: "depthwise 3x3 → bn (batch) → relu → conv 1x1",
    input: [2, 6, 6, 8],
    layers: [{ op: "conv", k: 3, pad: 1, out: 8, depthwise: true }, { op: "bn", train: true }, { op: "relu" }, { op: "conv", k: 1, out: 8 }],
  },
];

/** The chain's tensors: `base` (the input as stored for its form), parameters by name, and r, the output's cotangent. */
export interface ChainValues {
  base: PlainTensor;
  params: Record<string, PlainTensor>;
  r: PlainTensor;
}

const plain = (shape: number[], rng: Rng, scale = 1, offset = 0): PlainTensor => ({
  dtype: "F32",
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => offset + scale * rng.normal()),
});

/** The shape of the stored input for a form: NCHW for an NCHW view, two columns wider for a slice. */
export function baseShape([n, h, w, c]: Chain["input"], form: InputForm): number[] {
  if (form === "nchw_view") return [n, c, h, w];
  if (form === "sliced") return [n, h, w + 2, c];
  return [n, h, w, c];
}

/** Seeded values for a chain: every parameter, the stored input and the output cotangent. */
export function chainValues(chain: Chain, form: InputForm, seed: number): ChainValues {
  const rng = new Rng(seed);
  const params: Record<string, PlainTensor> = {};
  const outShape = walk(chain.layers, chain.input, "", (name, layer, shape) => {
    const c = shape[3]!;
    if (layer.op === "conv") {
      const fanIn = layer.k * layer.k * (layer.depthwise ? 1 : c);
      const filter = layer.depthwise ? [layer.k, layer.k, c, 1] : [layer.k, layer.k, c, layer.out];
      // a filter view is stored OIHW (PyTorch's layout) and transposed into tfjs's [k, k, in, out]
      const stored = form === "filter_views" ? [filter[3]!, filter[2]!, filter[0]!, filter[1]!] : filter;
      params[`${name}.w`] = plain(stored, rng, Math.sqrt(2 / fanIn));
    } else if (layer.op === "bn") {
      params[`${name}.gamma`] = plain([c], rng, 0.2, 1);
      params[`${name}.beta`] = plain([c], rng, 0.2);
      if (!layer.train) {
        params[`${name}.mean`] = plain([c], rng, 0.2);
        params[`${name}.var`] = { dtype: "F32", shape: [c], data: Float32Array.from({ length: c }, () => 0.5 + rng.next()) };
      }
    }
  });
  return { base: plain(baseShape(chain.input, form), rng), params, r: plain(outShape, rng) };
}

/**
 * Visits every layer with its dotted name and its input shape (NHWC); returns the output shape.
 * Names: `l<i>` per layer, `.body.`/`.shortcut.` inside a residual.
 */
export function walk(layers: Layer[], shape: number[], prefix: string, visit: (name: string, layer: Layer, shape: number[]) => void): number[] {
  let s = shape;
  layers.forEach((layer, i) => {
    const name = `${prefix}l${i}`;
    visit(name, layer, s);
    if (layer.op === "residual") {
      const body = walk(layer.body, s, `${name}.body.`, visit);
      walk(layer.shortcut, s, `${name}.shortcut.`, visit);
      s = body;
    } else if (layer.op === "conv") {
      s = [s[0]!, outSize(s[1]!, layer.k, layer.stride ?? 1, layer.pad ?? "valid"), outSize(s[2]!, layer.k, layer.stride ?? 1, layer.pad ?? "valid"), layer.depthwise ? s[3]! : layer.out];
    } else if (layer.op === "maxpool") {
      s = [s[0]!, outSize(s[1]!, layer.k, layer.stride, layer.pad), outSize(s[2]!, layer.k, layer.stride, layer.pad), s[3]!];
    }
  });
  return s;
}

function outSize(n: number, k: number, stride: number, pad: Pad): number {
  if (pad === "same") return Math.ceil(n / stride);
  const p = pad === "valid" ? 0 : pad;
  return Math.floor((n + 2 * p - k) / stride) + 1;
}

/** The chain's output for the stored input and parameters (tensors on the current backend). */
export function applyChain(chain: Chain, form: InputForm, base: tf.Tensor, params: Record<string, tf.Tensor>): tf.Tensor4D {
  const [n, h, w, c] = chain.input;
  const x =
    form === "nchw_view" ? tf.transpose(base, [0, 2, 3, 1]) : form === "sliced" ? tf.slice(base, [0, 0, 1, 0], [n, h, w, c]) : base;
  return run(chain.layers, x as tf.Tensor4D, "", form, params);
}

function run(layers: Layer[], input: tf.Tensor4D, prefix: string, form: InputForm, params: Record<string, tf.Tensor>): tf.Tensor4D {
  let x = input;
  layers.forEach((layer, i) => {
    const name = `${prefix}l${i}`;
    switch (layer.op) {
      case "conv": {
        const stored = params[`${name}.w`]!;
        const w = (form === "filter_views" ? tf.transpose(stored, [2, 3, 1, 0]) : stored) as tf.Tensor4D;
        const pad = layer.pad ?? "valid";
        x = layer.depthwise ? tf.depthwiseConv2d(x, w, layer.stride ?? 1, pad) : tf.conv2d(x, w, layer.stride ?? 1, pad);
        break;
      }
      case "bn": {
        const [gamma, beta] = [params[`${name}.gamma`]!, params[`${name}.beta`]!] as tf.Tensor1D[];
        x = (
          layer.train ? batchNormTrain(x, gamma!, beta!, 1e-5) : tf.batchNorm(x, params[`${name}.mean`]!, params[`${name}.var`]!, beta, gamma, 1e-5)
        ) as tf.Tensor4D;
        break;
      }
      case "relu":
        x = tf.relu(x);
        break;
      case "maxpool":
        x = tf.maxPool(x, layer.k, layer.stride, layer.pad);
        break;
      case "residual": {
        const body = run(layer.body, x, `${name}.body.`, form, params);
        x = tf.add(body, run(layer.shortcut, x, `${name}.shortcut.`, form, params));
        break;
      }
    }
  });
  return x;
}

/**
 * Runs the chain forward and backward on the current backend: the output y and the gradients of
 * sum(y · r) with respect to the stored input and every trainable parameter (running statistics
 * are constants), by exchange name (`output.y`, `grad.base`, `grad.<param>`).
 */
export async function runChain(chain: Chain, form: InputForm, values: ChainValues): Promise<Record<string, PlainTensor>> {
  const tensor = (p: PlainTensor) => tf.tensor(p.data, [...p.shape]);
  const base = tensor(values.base);
  const names = Object.keys(values.params);
  const params = Object.fromEntries(names.map((k) => [k, tensor(values.params[k]!)]));
  const trainable = names.filter((k) => !k.endsWith(".mean") && !k.endsWith(".var"));
  const r = tensor(values.r);
  const out: Record<string, PlainTensor> = {};
  const f = (...xs: tf.Tensor[]) => {
    const p = { ...params, ...Object.fromEntries(trainable.map((k, i) => [k, xs[i + 1]!])) };
    const y = applyChain(chain, form, xs[0]!, p);
    return tf.sum(tf.mul(y, r));
  };
  const y = applyChain(chain, form, base, params);
  out["output.y"] = { dtype: "F32", shape: y.shape, data: (await y.data()) as Float32Array };
  const grads = tf.grads(f)([base, ...trainable.map((k) => params[k]!)]);
  out["grad.base"] = { dtype: "F32", shape: grads[0]!.shape, data: (await grads[0]!.data()) as Float32Array };
  for (const [i, k] of trainable.entries()) out[`grad.${k}`] = { dtype: "F32", shape: grads[i + 1]!.shape, data: (await grads[i + 1]!.data()) as Float32Array };
  tf.dispose([base, r, y, ...grads, ...Object.values(params)]);
  return out;
}
