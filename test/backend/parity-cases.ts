// The parity cases: every native kernel of the torch backend, through the tfjs ops that reach
// it, on several shapes (broadcasting, strides, paddings, dilations, int32 and bool), with
// gradients where tfjs defines them.
import * as tf from "@tensorflow/tfjs";

import { adamStep } from "../../src/backend/adam-step.js";
import { batchNormTrain } from "../../src/backend/batch-norm.js";
import { rowsUpdate } from "../../src/backend/rows-update.js";
import type { Case, Input } from "./parity-harness.js";

const f = (...shape: number[]): Input => ({ shape });
const pos = (...shape: number[]): Input => ({ shape, low: 0.2, high: 3 });
const unit = (...shape: number[]): Input => ({ shape, low: -0.9, high: 0.9 });
const int = (...shape: number[]): Input => ({ shape, dtype: "int32" });
const bool = (...shape: number[]): Input => ({ shape, dtype: "bool" });
const idx = (n: number, ...shape: number[]): Input => ({ shape, dtype: "int32", low: 0, high: n - 1 });

type Fn = (x: tf.Tensor) => tf.Tensor;
type Fn2 = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

// [name, op, input maker, gradient defined and smooth]
const unaryOps: [string, Fn, (...s: number[]) => Input, boolean][] = [
  ["abs", tf.abs, f, true], ["acos", tf.acos, unit, true], ["acosh", tf.acosh, (...s) => ({ shape: s, low: 1.2, high: 3 }), true],
  ["asin", tf.asin, unit, true], ["asinh", tf.asinh, f, true], ["atan", tf.atan, f, true], ["atanh", tf.atanh, unit, true],
  ["ceil", tf.ceil, f, true], ["cos", tf.cos, f, true], ["cosh", tf.cosh, f, true], ["elu", tf.elu, f, true],
  ["erf", tf.erf, f, true], ["exp", tf.exp, f, true], ["expm1", tf.expm1, f, true], ["floor", tf.floor, f, true],
  ["isFinite", tf.isFinite, f, false], ["isInf", tf.isInf, f, false], ["isNaN", tf.isNaN, f, false],
  ["log", tf.log, pos, true], ["log1p", tf.log1p, pos, true], ["neg", tf.neg, f, true],
  ["reciprocal", tf.reciprocal, pos, true], ["relu", tf.relu, f, true], ["relu6", (x) => tf.relu6(tf.mul(x, 4)), f, true],
  ["round", tf.round, f, true], ["rsqrt", tf.rsqrt, pos, true], ["selu", tf.selu, f, true], ["sigmoid", tf.sigmoid, f, true],
  ["sign", tf.sign, f, true], ["sin", tf.sin, f, true], ["sinh", tf.sinh, f, true], ["softplus", tf.softplus, f, true],
  ["sqrt", tf.sqrt, pos, true], ["square", tf.square, f, true], ["tan", tf.tan, unit, true], ["tanh", tf.tanh, f, true],
  ["zerosLike", tf.zerosLike, f, true], ["onesLike", tf.onesLike, f, true],
  ["step", (x) => tf.step(x, 0.3), f, true], ["step alpha 0", (x) => tf.step(tf.round(tf.mul(x, 2))), f, true], ["leakyRelu", (x) => tf.leakyRelu(x, 0.1), f, true],
  ["clipByValue", (x) => tf.clipByValue(x, -0.5, 0.7), f, true],
];

const binaryOps: [string, Fn2, (...s: number[]) => Input, (...s: number[]) => Input, boolean][] = [
  ["add", tf.add, f, f, true], ["sub", tf.sub, f, f, true], ["mul", tf.mul, f, f, true], ["div", tf.div, f, pos, true],
  ["floorDiv", tf.floorDiv, f, pos, false], ["maximum", tf.maximum, f, f, true], ["minimum", tf.minimum, f, f, true],
  ["pow", tf.pow, pos, f, true], ["squaredDifference", tf.squaredDifference, f, f, true], ["mod", tf.mod, f, pos, true],
  ["atan2", tf.atan2, f, f, true], ["equal", tf.equal, int, int, false], ["notEqual", tf.notEqual, int, int, false],
  ["greater", tf.greater, f, f, false], ["greaterEqual", tf.greaterEqual, int, int, false], ["less", tf.less, f, f, false],
  ["lessEqual", tf.lessEqual, int, int, false], ["prelu", tf.prelu, f, f, true],
];

// Broadcast pairs: same shape, trailing broadcast, both sides broadcast, scalar.
const broadcastPairs: [number[], number[]][] = [[[3, 5], [3, 5]], [[2, 3, 4], [3, 4]], [[2, 1, 4], [3, 1]], [[4], []]];

const unaryCases: Case[] = unaryOps.flatMap(([name, op, input, grad]) =>
  [[3, 5], [2, 3, 4], []].map((shape) => ({ name: `${name} ${JSON.stringify(shape)}`, inputs: [input(...shape)], fn: op, grad })),
);

// tfjs's own gradients of these do not reduce over broadcast dimensions (they fail on cpu too).
const noBroadcastGrad = new Set(["maximum", "minimum", "squaredDifference", "prelu"]);

const binaryCases: Case[] = binaryOps.flatMap(([name, op, a, b, grad]) =>
  broadcastPairs.map(([sa, sb], k) => ({
    name: `${name} ${JSON.stringify(sa)}×${JSON.stringify(sb)}`,
    inputs: [a(...sa), b(...sb)],
    fn: op,
    grad: grad && (k === 0 || !noBroadcastGrad.has(name)),
  })),
);

const intCases: Case[] = [
  { name: "add int32", inputs: [int(3, 4), int(4)], fn: tf.add },
  { name: "sub int32", inputs: [int(3, 4), int(3, 1)], fn: tf.sub },
  { name: "mul int32", inputs: [int(3, 4), int()], fn: tf.mul },
  { name: "floorDiv int32", inputs: [int(3, 4), { shape: [4], dtype: "int32", low: 1, high: 4 }], fn: tf.floorDiv },
  { name: "div int32 (floor)", inputs: [int(3, 4), { shape: [4], dtype: "int32", low: 1, high: 4 }], fn: tf.div },
  { name: "mod int32", inputs: [int(3, 4), { shape: [4], dtype: "int32", low: 1, high: 4 }], fn: tf.mod },
  { name: "maximum int32", inputs: [int(3, 4), int(4)], fn: tf.maximum },
  { name: "minimum int32", inputs: [int(3, 4), int(4)], fn: tf.minimum },
  { name: "pow int32", inputs: [int(3, 4), { shape: [4], dtype: "int32", low: 0, high: 3 }], fn: tf.pow },
  { name: "abs int32", inputs: [int(3, 4)], fn: tf.abs },
  { name: "neg int32", inputs: [int(3, 4)], fn: tf.neg },
  { name: "square int32", inputs: [int(3, 4)], fn: tf.square },
  { name: "relu int32", inputs: [int(3, 4)], fn: tf.relu },
  { name: "greater float×int cast", inputs: [f(3, 4), int(4)], fn: (a, b) => tf.greater(a, tf.cast(b, "float32")) },
  { name: "logicalAnd", inputs: [bool(3, 4), bool(4)], fn: tf.logicalAnd },
  { name: "logicalOr", inputs: [bool(2, 3, 4), bool(3, 1)], fn: tf.logicalOr },
  { name: "logicalXor (composed)", inputs: [bool(3, 4), bool(3, 4)], fn: tf.logicalXor },
  { name: "logicalNot", inputs: [bool(3, 4)], fn: tf.logicalNot },
  { name: "cast float→int32 (truncates)", inputs: [{ shape: [3, 4], low: -5, high: 5 }], fn: (x) => tf.cast(x, "int32") },
  { name: "cast int32→float", inputs: [int(3, 4)], fn: (x) => tf.cast(x, "float32") },
  { name: "cast float→bool", inputs: [int(3, 4)], fn: (x) => tf.cast(tf.cast(x, "float32"), "bool") },
  { name: "cast bool→float and int32", inputs: [bool(3, 4)], fn: (x) => [tf.cast(x, "float32"), tf.cast(x, "int32")] },
  { name: "cast int32→bool", inputs: [int(3, 4)], fn: (x) => tf.cast(x, "bool") },
  { name: "cast grad", inputs: [f(3, 4)], fn: (x) => tf.cast(tf.mul(x, 2), "float32"), grad: true },
  { name: "where (select)", inputs: [bool(3, 4), f(3, 4), f(3, 4)], fn: (c, a, b) => tf.where(c, a, b), grad: true },
  { name: "where broadcast", inputs: [bool(3, 1), f(4), f(3, 4)], fn: (c, a, b) => tf.where(c, tf.broadcastTo(a, [3, 4]), b), grad: true },
  { name: "where int32", inputs: [bool(3, 4), int(3, 4), int(3, 4)], fn: (c, a, b) => tf.where(c, a, b) },
  { name: "addN", inputs: [f(3, 4), f(3, 4), f(3, 4)], fn: (a, b, c) => tf.addN([a, b, c]), grad: true },
  { name: "elu grad (EluGrad)", inputs: [f(4, 5)], fn: (x) => tf.elu(tf.mul(x, 3)), grad: true },
];

const reduceCases: Case[] = [
  ...(["sum", "mean", "max", "min", "prod"] as const).flatMap((op) =>
    ([[[3, 4, 5], 1, false], [[3, 4, 5], [0, 2], true], [[3, 4, 5], null, false], [[6], 0, true], [[2, 3, 4, 5], [1, 2], false]] as const).map(
      ([shape, axis, keep]) => ({
        name: `${op} axis=${JSON.stringify(axis)} keepDims=${keep} ${JSON.stringify(shape)}`,
        inputs: [op === "prod" ? { shape: [...shape], low: 0.5, high: 1.5 } : f(...shape)],
        fn: (x: tf.Tensor) => tf[op](x, axis === null ? undefined : (axis as number | number[]), keep),
        grad: true,
      }),
    ),
  ),
  { name: "sum int32", inputs: [int(3, 4, 5)], fn: (x) => tf.sum(x, [0, 2]) },
  { name: "sum bool", inputs: [bool(3, 4)], fn: (x) => tf.sum(x, 1) },
  { name: "max int32", inputs: [int(3, 4, 5)], fn: (x) => tf.max(x, 2) },
  { name: "min int32 keepDims", inputs: [int(3, 4)], fn: (x) => tf.min(x, 0, true) },
  { name: "prod int32", inputs: [{ shape: [3, 4], dtype: "int32", low: -2, high: 2 }], fn: (x) => tf.prod(x, 1) },
  { name: "mean int32", inputs: [int(3, 4)], fn: (x) => tf.mean(x, 1) },
  { name: "sum of a scalar (no axes)", inputs: [f()], fn: (x) => tf.sum(x), grad: true },
  { name: "all", inputs: [bool(3, 4, 2)], fn: (x) => [tf.all(x, 1), tf.all(x), tf.all(x, [0, 2], true)] },
  { name: "any", inputs: [bool(3, 4, 2)], fn: (x) => [tf.any(x, 1), tf.any(x), tf.any(x, [0, 2], true)] },
  { name: "argMax", inputs: [f(3, 4, 5)], fn: (x) => [tf.argMax(x, 0), tf.argMax(x, 1), tf.argMax(x, -1)] },
  { name: "argMin", inputs: [f(3, 4, 5)], fn: (x) => [tf.argMin(x, 0), tf.argMin(x, 2)] },
  { name: "argMax int32", inputs: [{ shape: [4, 6], dtype: "int32", values: [...Array(24).keys()].map((i) => (i * 7) % 24) }], fn: (x) => tf.argMax(x, 1) },
  ...([[false, false], [true, false], [false, true], [true, true]] as const).flatMap(([exclusive, reverse]) => [
    { name: `cumsum exclusive=${exclusive} reverse=${reverse}`, inputs: [f(3, 5)], fn: (x: tf.Tensor) => tf.cumsum(x, 1, exclusive, reverse), grad: true },
    { name: `cumprod exclusive=${exclusive} reverse=${reverse}`, inputs: [{ shape: [4, 3], low: 0.5, high: 1.5 }], fn: (x: tf.Tensor) => tf.cumprod(x, 0, exclusive, reverse) },
  ]),
  { name: "cumsum int32", inputs: [int(3, 5)], fn: (x) => tf.cumsum(x, 1) },
  { name: "softmax 2-D", inputs: [f(4, 7)], fn: (x) => tf.softmax(x), grad: true },
  { name: "softmax 3-D", inputs: [{ shape: [2, 3, 6], low: -8, high: 8 }], fn: (x) => tf.softmax(x), grad: true },
  { name: "logSoftmax", inputs: [f(4, 7)], fn: (x) => tf.logSoftmax(x), grad: true },
  { name: "topk", inputs: [f(3, 10)], fn: (x) => { const r = tf.topk(x, 4); return [r.values, r.indices]; } },
  { name: "topk int32 1-D", inputs: [{ shape: [8], dtype: "int32", values: [5, 1, 9, 3, 7, 0, 2, 8] }], fn: (x) => { const r = tf.topk(x, 3); return [r.values, r.indices]; } },
];

const layoutCases: Case[] = [
  { name: "reshape", inputs: [f(2, 3, 4)], fn: (x) => tf.reshape(x, [4, -1]), grad: true },
  { name: "reshape of a transpose (copy)", inputs: [f(2, 3, 4)], fn: (x) => tf.reshape(tf.transpose(x, [2, 0, 1]), [4, 6]), grad: true },
  { name: "expandDims / squeeze", inputs: [f(3, 4)], fn: (x) => tf.squeeze(tf.expandDims(tf.expandDims(x, 1), -1), [3]), grad: true },
  { name: "transpose 2-D", inputs: [f(3, 5)], fn: (x) => tf.transpose(x), grad: true },
  { name: "transpose 4-D", inputs: [f(2, 3, 4, 5)], fn: (x) => tf.transpose(x, [0, 3, 1, 2]), grad: true },
  { name: "transpose int32", inputs: [int(2, 3, 4)], fn: (x) => tf.transpose(x, [1, 2, 0]) },
  { name: "broadcastTo", inputs: [f(3, 1)], fn: (x) => tf.broadcastTo(x, [2, 3, 4]), grad: true },
  { name: "slice", inputs: [f(4, 5, 6)], fn: (x) => tf.slice(x, [1, 0, 2], [2, -1, 3]), grad: true },
  { name: "slice 1-D int32", inputs: [int(9)], fn: (x) => tf.slice(x, 3, 4) },
  { name: "stridedSlice positive strides", inputs: [f(6, 7)], fn: (x) => tf.stridedSlice(x, [1, 0], [6, 7], [2, 3]) },
  { name: "stridedSlice negative stride", inputs: [f(6, 7)], fn: (x) => tf.stridedSlice(x, [5, 1], [0, 6], [-2, 1]) },
  { name: "stridedSlice negative stride to the start", inputs: [f(6, 7)], fn: (x) => tf.stridedSlice(x, [4, 6], [0, 0], [-1, -3], 0b00, 0b11) },
  { name: "stridedSlice masks", inputs: [f(4, 5, 6)], fn: (x) => tf.stridedSlice(x, [1, 0, 2], [3, 0, 5], [1, 1, 1], 0b010, 0b010, 0, 0, 0b001) },
  { name: "stridedSlice new axis and ellipsis", inputs: [f(4, 5, 6)], fn: (x) => tf.stridedSlice(x, [0, 1], [0, 4], [1, 1], 0, 0, 0b01, 0b00, 0) },
  { name: "concat axis 0", inputs: [f(2, 3), f(4, 3), f(1, 3)], fn: (a, b, c) => tf.concat([a, b, c], 0), grad: true },
  { name: "concat axis -1", inputs: [f(2, 3, 2), f(2, 3, 5)], fn: (a, b) => tf.concat([a, b], -1), grad: true },
  { name: "concat int32", inputs: [int(2, 3), int(2, 2)], fn: (a, b) => tf.concat([a, b], 1) },
  { name: "stack", inputs: [f(3, 4), f(3, 4), f(3, 4)], fn: (a, b, c) => tf.stack([a, b, c], 1), grad: true },
  { name: "unstack", inputs: [f(3, 4, 2)], fn: (x) => tf.unstack(x, 1) },
  { name: "unstack grad", inputs: [f(3, 4, 2)], fn: (x) => tf.mul(tf.unstack(x, 2)[1], 3), grad: true },
  { name: "split equal", inputs: [f(4, 6)], fn: (x) => tf.split(x, 3, 1) },
  { name: "split sizes", inputs: [f(6, 4)], fn: (x) => tf.split(x, [1, 2, 3], 0) },
  { name: "split grad", inputs: [f(4, 6)], fn: (x) => tf.add(tf.split(x, [2, 4], 1)[1], 1), grad: true },
  { name: "tile", inputs: [f(2, 3)], fn: (x) => tf.tile(x, [2, 3]), grad: true },
  { name: "tile int32 3-D", inputs: [int(2, 1, 3)], fn: (x) => tf.tile(x, [1, 4, 2]) },
  { name: "reverse", inputs: [f(3, 4, 5)], fn: (x) => tf.reverse(x, [0, 2]), grad: true },
  { name: "pad", inputs: [f(3, 4)], fn: (x) => tf.pad(x, [[1, 2], [0, 3]], 0.5), grad: true },
  { name: "pad 4-D int32", inputs: [int(1, 2, 3, 2)], fn: (x) => tf.pad(x, [[0, 0], [1, 1], [2, 0], [0, 0]]) },
  { name: "mirrorPad reflect", inputs: [f(4, 5)], fn: (x) => tf.mirrorPad(x, [[2, 1], [3, 3]], "reflect"), grad: true },
  { name: "mirrorPad symmetric", inputs: [f(2, 4, 5)], fn: (x) => tf.mirrorPad(x, [[0, 0], [2, 3], [1, 4]], "symmetric"), grad: true },
  { name: "gather axis 0 (embedding)", inputs: [f(10, 4), idx(10, 3, 5)], fn: (x, i) => tf.gather(x, i), grad: true },
  { name: "gather axis 1", inputs: [f(3, 6, 2), idx(6, 4)], fn: (x, i) => tf.gather(x, i, 1), grad: true },
  { name: "gather int32", inputs: [int(7, 3), idx(7, 5)], fn: (x, i) => tf.gather(x, i) },
  { name: "gather batchDims 1", inputs: [f(3, 5, 2), idx(5, 3, 4)], fn: (x, i) => tf.gather(x, i, 1, 1) },
  { name: "gatherND", inputs: [f(4, 5, 3), idx(4, 6, 2)], fn: (x, i) => tf.gatherND(x, tf.minimum(i, tf.tensor1d([3, 4], "int32"))) },
  { name: "scatterND", inputs: [idx(4, 5, 2), f(5, 3)], fn: (i, u) => tf.scatterND(i, u, [4, 4, 3]) },
  { name: "unsortedSegmentSum", inputs: [f(6, 3), { shape: [6], dtype: "int32", values: [0, 2, 2, 1, 0, 3] }], fn: (x, s) => tf.unsortedSegmentSum(x, s as tf.Tensor1D, 4), grad: true },
  { name: "oneHot", inputs: [idx(5, 6)], fn: (i) => tf.oneHot(i, 5) },
  { name: "oneHot on/off int32", inputs: [idx(4, 2, 3)], fn: (i) => tf.oneHot(i, 4, 3, -1, "int32") },
  { name: "fill / zeros / ones", inputs: [], fn: () => [tf.fill([2, 3], 1.5), tf.zeros([3, 2], "int32"), tf.ones([2, 2], "bool"), tf.fill([2], 7, "int32")] },
  { name: "range", inputs: [], fn: () => [tf.range(0, 10, 3), tf.range(5, -2, -2, "int32"), tf.range(0, 1, 0.25), tf.range(3, 3)] },
  { name: "linspace-like arithmetic on range", inputs: [f(5)], fn: (x) => tf.mul(x, tf.range(0, 5)), grad: true },
];

// Convolution geometries: [x shape, filter shape, strides, pad, dilations]
const convs: [number[], number[], number | [number, number], "same" | "valid" | number, number | [number, number]][] = [
  [[2, 9, 9, 3], [3, 3, 3, 4], 1, "same", 1],
  [[2, 8, 8, 3], [3, 3, 3, 4], 2, "same", 1], // asymmetric padding (0 top, 1 bottom)
  [[1, 16, 16, 3], [7, 7, 3, 5], 2, "same", 1], // ResNet stem: pads 2 / 3
  [[2, 9, 7, 4], [3, 2, 4, 3], [2, 1], "valid", 1],
  [[2, 8, 8, 4], [1, 1, 4, 6], 1, "valid", 1],
  [[2, 8, 8, 4], [1, 1, 4, 6], 2, "valid", 1], // ResNet downsampling shortcut
  [[1, 10, 10, 2], [3, 3, 2, 3], 1, "same", 2],
  [[1, 10, 9, 2], [3, 3, 2, 2], 1, "valid", [2, 1]],
  [[1, 9, 9, 2], [3, 3, 2, 2], 1, 1, 2], // tfjs sizes numeric padding from the filter height only: keep it square
  [[2, 7, 7, 3], [3, 3, 3, 2], 1, 2, 1],
];

const conv = (x: tf.Tensor, w: tf.Tensor, s: (typeof convs)[0][2], p: (typeof convs)[0][3], d: (typeof convs)[0][4]) =>
  tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, p as "same", "NHWC", d);

const nnCases: Case[] = [
  ...convs.map(([xs, ws, s, p, d]) => ({
    name: `conv2d x${JSON.stringify(xs)} w${JSON.stringify(ws)} s=${s} pad=${p} d=${d}`,
    inputs: [f(...xs), f(...ws)],
    fn: (x: tf.Tensor, w: tf.Tensor) => conv(x, w, s, p, d),
    // tfjs computes no gradients for dilated convolutions
    grad: d === 1,
  })),
  ...([[[2, 8, 8, 3], [3, 3, 3, 2], 1, "same"], [[2, 9, 9, 4], [3, 3, 4, 1], 2, "same"], [[1, 7, 8, 2], [2, 3, 2, 3], [2, 1], "valid"]] as const).map(
    ([xs, ws, s, p]) => ({
      name: `depthwiseConv2d x${JSON.stringify(xs)} w${JSON.stringify(ws)} s=${s} pad=${p}`,
      inputs: [f(...xs), f(...ws)],
      fn: (x: tf.Tensor, w: tf.Tensor) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, s as number, p),
      grad: true,
    }),
  ),
  {
    name: "fused depthwiseConv2d bias + relu6",
    inputs: [f(2, 7, 7, 3), f(3, 3, 3, 2), f(6)],
    fn: (x, w, b) => tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 2, pad: "same", bias: b as tf.Tensor1D, activation: "relu6" }),
  },
  { name: "depthwiseConv2d dilated", inputs: [f(1, 9, 9, 2), f(3, 3, 2, 2)], fn: (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same", "NHWC", 2) },
  {
    name: "fused conv2d bias + relu",
    inputs: [f(2, 8, 8, 3), f(3, 3, 3, 4), f(4)],
    fn: (x, w, b) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 2, pad: "same", bias: b, activation: "relu" }),
    grad: true,
  },
  {
    name: "fused conv2d leakyrelu, no bias",
    inputs: [f(1, 6, 6, 2), f(3, 3, 2, 3)],
    fn: (x, w) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: "valid", activation: "leakyrelu", leakyreluAlpha: 0.3 }),
  },
  ...([[[2, 8, 8, 3], 3, 2, "same"], [[2, 9, 9, 3], 3, 2, "same"], [[2, 8, 8, 2], 2, 2, "valid"], [[1, 7, 6, 2], [3, 2], [1, 2], "valid"]] as const).flatMap(
    ([xs, k, s, p]) => [
      { name: `maxPool x${JSON.stringify(xs)} k=${k} s=${s} ${p}`, inputs: [f(...xs)], fn: (x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, k as number, s as number, p), grad: true },
      { name: `avgPool x${JSON.stringify(xs)} k=${k} s=${s} ${p}`, inputs: [f(...xs)], fn: (x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, k as number, s as number, p), grad: true },
    ],
  ),
  { name: "avgPool same stride 1 (symmetric pad)", inputs: [f(1, 6, 6, 2)], fn: (x) => tf.avgPool(x as tf.Tensor4D, 3, 1, "same"), grad: true },
  { name: "maxPool same stride 1 (symmetric pad)", inputs: [f(1, 6, 6, 2)], fn: (x) => tf.maxPool(x as tf.Tensor4D, 3, 1, "same"), grad: true },
  // bilinear resize: up and down, each sampling rule (tfjs's gradient samples without half-pixel
  // centres whatever the forward did; square images: tfjs's cpu gradient swaps height and width)
  ...([[[2, 4, 4, 3], [7, 7]], [[1, 6, 6, 2], [4, 4]]] as const).flatMap(([xs, size]) =>
    ([[false, false], [true, false], [false, true]] as const).map(([align, half]) => ({
      name: `resizeBilinear ${JSON.stringify(xs)} → ${JSON.stringify(size)} alignCorners=${align} halfPixelCenters=${half}`,
      inputs: [f(...xs)],
      fn: (x: tf.Tensor) => tf.image.resizeBilinear(x as tf.Tensor4D, [...size], align, half),
      grad: true,
    })),
  ),
  { name: "resizeBilinear int32 images", inputs: [int(1, 3, 3, 2)], fn: (x) => tf.image.resizeBilinear(x as tf.Tensor4D, [5, 5]) },
  { name: "matMul", inputs: [f(4, 6), f(6, 5)], fn: (a, b) => tf.matMul(a, b), grad: true },
  { name: "matMul transposeA", inputs: [f(6, 4), f(6, 5)], fn: (a, b) => tf.matMul(a, b, true, false), grad: true },
  { name: "matMul transposeB", inputs: [f(4, 6), f(5, 6)], fn: (a, b) => tf.matMul(a, b, false, true), grad: true },
  { name: "matMul both transposed", inputs: [f(6, 4), f(5, 6)], fn: (a, b) => tf.matMul(a, b, true, true), grad: true },
  { name: "batch matMul 3-D", inputs: [f(3, 4, 6), f(3, 6, 2)], fn: (a, b) => tf.matMul(a, b), grad: true },
  { name: "batch matMul 4-D transposeB (attention)", inputs: [f(2, 3, 5, 4), f(2, 3, 5, 4)], fn: (a, b) => tf.matMul(a, b, false, true), grad: true },
  // tfjs does not reduce the broadcast batch in BatchMatMul's gradient (fails on cpu too): forward only
  { name: "batch matMul broadcast batch", inputs: [f(2, 4, 6), f(1, 6, 3)], fn: (a, b) => tf.matMul(a, b) },
  { name: "matMul of a transposed view", inputs: [f(6, 4), f(6, 5)], fn: (a, b) => tf.matMul(tf.transpose(a), b), grad: true },
  { name: "fused matMul bias + relu", inputs: [f(4, 6), f(6, 5), f(5)], fn: (a, b, c) => tf.fused.matMul({ a, b, bias: c, activation: "relu" }), grad: true },
  { name: "fused matMul transposeB sigmoid", inputs: [f(4, 6), f(5, 6), f(5)], fn: (a, b, c) => tf.fused.matMul({ a, b, transposeB: true, bias: c, activation: "sigmoid" }), grad: true },
  {
    name: "batchNorm 1-D parameters",
    inputs: [f(2, 4, 4, 3), f(3), pos(3), f(3), f(3)],
    fn: (x, m, v, o, s) => tf.batchNorm(x, m, v, o, s, 1e-3),
    grad: true,
  },
  // tfjs's batchNorm gradient needs scale and offset (it fails on cpu without them): forward only
  { name: "batchNorm without scale/offset", inputs: [f(2, 5, 3), f(3), pos(3)], fn: (x, m, v) => tf.batchNorm(x, m, v, undefined, undefined, 1e-5) },
  {
    name: "batchNorm from moments (training)",
    inputs: [f(2, 4, 4, 3), f(3), f(3)],
    fn: (x, o, s) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.batchNorm(x, mean, variance, o, s, 1e-5);
    },
    grad: true,
  },
  // sdfn's fused Adam step and training batch norm: native kernels on torch, written-out formulas on cpu
  ...([false, true] as const).flatMap((decoupled) =>
    [0, 0.01].map((weightDecay) => ({
      name: `adamStep decoupled=${decoupled} weightDecay=${weightDecay}`,
      inputs: [f(5, 4), f(5, 4), pos(5, 4), f(5, 4)],
      fn: (w: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor) => {
        const r = adamStep(w, m, v, g, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, bias1: 1 - 0.9 ** 3, bias2: 1 - 0.999 ** 3, weightDecay, decoupled });
        return [r.variable, r.m, r.v];
      },
    })),
  ),
  {
    // a matmul's gradient arrives as a transposed view: the one-pass CPU update makes it contiguous first
    name: "adamStep with a transposed gradient",
    inputs: [f(5, 4), f(5, 4), pos(5, 4), f(4, 5)],
    fn: (w: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor) => {
      const r = adamStep(w, m, v, tf.transpose(g), { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, bias1: 1 - 0.9 ** 3, bias2: 1 - 0.999 ** 3, weightDecay: 0.01, decoupled: false });
      return [r.variable, r.m, r.v];
    },
  },
  // the distillation cache's row update (rows 4 and 1 replaced)
  { name: "rowsUpdate", inputs: [f(6, 3), f(2, 3)], fn: (table, rows) => rowsUpdate(table as tf.Tensor2D, tf.tensor1d([4, 1], "int32"), rows as tf.Tensor2D) },
  { name: "batchNormTrain NHWC", inputs: [f(2, 5, 4, 3), f(3), f(3)], fn: (x, g, b) => batchNormTrain(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5), grad: true },
  { name: "batchNormTrain (B, C)", inputs: [f(6, 4), f(4), f(4)], fn: (x, g, b) => batchNormTrain(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3), grad: true },
  { name: "batchNormTrain (B, N, C)", inputs: [f(2, 5, 3), f(3), f(3)], fn: (x, g, b) => batchNormTrain(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5), grad: true },
  {
    name: "batchNormTrain statistics",
    inputs: [f(2, 4, 4, 3), f(3), f(3)],
    fn: (x, g, b) => {
      let stats: Float32Array[] = [];
      const y = batchNormTrain(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5, (m, v) => (stats = [m.dataSync() as Float32Array, v.dataSync() as Float32Array]));
      return [y, ...stats.map((s) => tf.tensor1d(s))];
    },
  },
  {
    // tfjs's cpu batchNorm cycles through parameter values flatly, so its parameters must be
    // per-channel or full-shape; its gradient wants the same rank for all: full shape, forward only
    name: "layer norm (full-shape batchNorm parameters)",
    inputs: [f(2, 3, 6), f(2, 3, 6), f(2, 3, 6)],
    fn: (x, o, s) => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.batchNorm(x, tf.broadcastTo(mean, x.shape), tf.broadcastTo(variance, x.shape), o, s, 1e-5);
    },
  },
];

export const parityCases: Case[] = [...unaryCases, ...binaryCases, ...intCases, ...reduceCases, ...layoutCases, ...nnCases];
