// tfjs kernels as ONNX operators (opset 17): one entry per kernel name, given the traced node
// (its inputs as ONNX value names, its attributes, its recorded shapes). tfjs computes images in
// NHWC and ONNX's Conv and pools in NCHW: those are wrapped in transposes (onnxruntime folds
// them). An integer attribute that grows with the batch (a Reshape's shape, a Tile's repeats)
// is a Linear a·batch + c, built at run time from the input's batch dimension.
import type * as tf from "@tensorflow/tfjs";
import { ELEM, float, int, ints, type Elem, type OnnxGraph } from "./onnx-graph.js";

/** An integer attribute value: a·batch + c (a = 0: a constant). */
export interface Linear {
  a: number;
  c: number;
}

export const elemOf = (dtype: tf.DataType): Elem =>
  dtype === "float32" ? ELEM.float32 : dtype === "int32" ? ELEM.int32 : dtype === "bool" ? ELEM.bool : (() => { throw new Error(`no ONNX type for tfjs dtype ${dtype}`); })();

/** What a kernel's mapping sees of its node. */
export interface Emit {
  g: OnnxGraph;
  kernel: string;
  /** The ONNX value of input `key`. */
  in(key: string): string;
  /** The node has input `key` (optional inputs: a batch norm's scale and offset, a fused bias). */
  has(key: string): boolean;
  /** List inputs ("0", "1", …) in order. */
  list(): string[];
  /** The ONNX values the node's outputs must be written to. */
  outs: string[];
  attr<T = unknown>(name: string): T;
  /** An integer attribute (flattened when a list), each a Linear in the batch size. */
  linear(name: string): Linear[];
  /** A 1-D int64 tensor of Linear values (an initializer when none depends on the batch). */
  int64(values: readonly Linear[]): string;
  /** Recorded shape and dtype of input `key` / output `i`. */
  inShape(key: string): number[];
  outShape(i?: number): number[];
  inType(key: string): tf.DataType;
  /** A weight's (a variable's or constant's) name and values, for mappings that re-lay it out once (Conv's filter). */
  weight(key: string): { name: string; values: tf.TypedArray; shape: number[] } | undefined;
}

type Mapping = (e: Emit) => void;

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];
const pair = (v: number | number[]) => (Array.isArray(v) ? [v[0]!, v[1]!] : [v, v]);
const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);
const axesOf = (v: number | number[], rank: number) => (Array.isArray(v) ? v : [v]).map((a) => normAxis(a, rank));
const unary = (op: string): Mapping => (e) => void e.g.node(op, [e.in("x")], {}, e.outs);
const binary = (op: string): Mapping => (e) => void e.g.node(op, [e.in("a"), e.in("b")], {}, e.outs);

/** tfjs pad (a number, "same", "valid" or explicit NHWC pairs) as ONNX Conv/pool attributes. */
function padAttrs(pad: unknown): Record<string, ReturnType<typeof ints> | { string: string }> {
  if (pad === "same") return { auto_pad: { string: "SAME_UPPER" } };
  if (pad === "valid") return { pads: ints([0, 0, 0, 0]) };
  if (typeof pad === "number") return { pads: ints([pad, pad, pad, pad]) };
  const p = pad as number[][];
  return { pads: ints([p[1]![0]!, p[2]![0]!, p[1]![1]!, p[2]![1]!]) };
}

/** An NCHW operator applied to an NHWC tensor: transpose in, `op`, transpose out. */
function inNchw(e: Emit, op: string, inputs: string[], attrs: Parameters<OnnxGraph["node"]>[2]): void {
  const x = e.g.op("Transpose", [e.in("x")], { perm: ints(NHWC_TO_NCHW) });
  const y = e.g.op(op, [x, ...inputs], attrs);
  e.g.node("Transpose", [y], { perm: ints(NCHW_TO_NHWC) }, e.outs);
}

/** tfjs's HWIO filter as ONNX's OIHW: re-laid once when it is a weight, else transposed in the graph. */
function filterOIHW(e: Emit): string {
  const w = e.weight("filter");
  if (!w) return e.g.op("Transpose", [e.in("filter")], { perm: ints([3, 2, 0, 1]) });
  const [h, wd, i, o] = w.shape as [number, number, number, number];
  const out = new Float32Array(w.values.length);
  for (let a = 0; a < h; a++) for (let b = 0; b < wd; b++) for (let c = 0; c < i; c++) for (let d = 0; d < o; d++) out[((d * i + c) * h + a) * wd + b] = w.values[((a * wd + b) * i + c) * o + d] as number;
  return e.g.constant(`${w.name}:oihw`, out, [o, i, h, wd], ELEM.float32);
}

/** Reductions: ReduceSum takes its axes as an input since opset 13, the others as an attribute until opset 18. */
const reduce = (op: string, axisAttr: string): Mapping => (e) => {
  const axes = axesOf(e.attr<number | number[]>(axisAttr), e.inShape("x").length);
  const keepdims = int(e.attr<boolean>("keepDims") ? 1 : 0);
  if (op === "ReduceSum") e.g.node(op, [e.in("x"), e.g.int64s(axes)], { keepdims }, e.outs);
  else e.g.node(op, [e.in("x")], { axes: ints(axes), keepdims }, e.outs);
};

function batchMatMul(e: Emit, a: string, b: string, out: string[]): void {
  const swap = (x: string, rank: number) => e.g.op("Transpose", [x], { perm: ints([...Array(rank - 2).keys(), rank - 1, rank - 2]) });
  const ta = e.attr<boolean>("transposeA") ? swap(a, e.inShape("a").length) : a;
  const tb = e.attr<boolean>("transposeB") ? swap(b, e.inShape("b").length) : b;
  e.g.node("MatMul", [ta, tb], {}, out);
}

const ACTIVATIONS: Record<string, (e: Emit, x: string, out: string[]) => void> = {
  linear: (e, x, out) => void e.g.node("Identity", [x], {}, out),
  relu: (e, x, out) => void e.g.node("Relu", [x], {}, out),
  sigmoid: (e, x, out) => void e.g.node("Sigmoid", [x], {}, out),
  elu: (e, x, out) => void e.g.node("Elu", [x], {}, out),
  relu6: (e, x, out) => void e.g.node("Clip", [x, e.g.scalar(0), e.g.scalar(6)], {}, out),
  leakyrelu: (e, x, out) => void e.g.node("LeakyRelu", [x], { alpha: float(e.attr<number>("leakyreluAlpha")) }, out),
  prelu: (e, x, out) => void e.g.node("PRelu", [x, e.in("preluActivationWeights")], {}, out),
};

/** Kernels without a constant: a filled tensor of the node's output shape (dynamic in the batch when it is). */
function fill(e: Emit, shape: string, value: number, dtype: tf.DataType): void {
  const tensor = { dims: [1], dataType: elemOf(dtype), rawData: new Uint8Array(dtype === "bool" ? [value ? 1 : 0] : new (dtype === "int32" ? Int32Array : Float32Array)([value]).buffer) };
  e.g.node("ConstantOfShape", [shape], { value: { tensor } }, e.outs);
}

export const KERNELS: Record<string, Mapping> = {
  Identity: unary("Identity"),
  Relu: unary("Relu"),
  Sigmoid: unary("Sigmoid"),
  Tanh: unary("Tanh"),
  Exp: unary("Exp"),
  Log: unary("Log"),
  Neg: unary("Neg"),
  Abs: unary("Abs"),
  Sqrt: unary("Sqrt"),
  Reciprocal: unary("Reciprocal"),
  Floor: unary("Floor"),
  Ceil: unary("Ceil"),
  Sign: unary("Sign"),
  Erf: unary("Erf"),
  Elu: unary("Elu"),
  Softplus: unary("Softplus"),
  Sin: unary("Sin"),
  Cos: unary("Cos"),
  LogicalNot: unary("Not"),
  Square: (e) => void e.g.node("Mul", [e.in("x"), e.in("x")], {}, e.outs),
  Rsqrt: (e) => void e.g.node("Reciprocal", [e.g.op("Sqrt", [e.in("x")])], {}, e.outs),
  Relu6: (e) => void e.g.node("Clip", [e.in("x"), e.g.scalar(0), e.g.scalar(6)], {}, e.outs),
  LeakyRelu: (e) => void e.g.node("LeakyRelu", [e.in("x")], { alpha: float(e.attr<number>("alpha")) }, e.outs),
  Prelu: (e) => void e.g.node("PRelu", [e.in("x"), e.in("alpha")], {}, e.outs),
  ClipByValue: (e) => void e.g.node("Clip", [e.in("x"), e.g.scalar(e.attr("clipValueMin")), e.g.scalar(e.attr("clipValueMax"))], {}, e.outs),
  Add: binary("Add"),
  Sub: binary("Sub"),
  Multiply: binary("Mul"),
  RealDiv: binary("Div"),
  Maximum: binary("Max"),
  Minimum: binary("Min"),
  Pow: binary("Pow"),
  FloorDiv: (e) => void e.g.node("Floor", [e.g.op("Div", [e.in("a"), e.in("b")])], {}, e.outs),
  SquaredDifference: (e) => {
    const d = e.g.op("Sub", [e.in("a"), e.in("b")]);
    e.g.node("Mul", [d, d], {}, e.outs);
  },
  Greater: binary("Greater"),
  GreaterEqual: binary("GreaterOrEqual"),
  Less: binary("Less"),
  LessEqual: binary("LessOrEqual"),
  Equal: binary("Equal"),
  NotEqual: (e) => void e.g.node("Not", [e.g.op("Equal", [e.in("a"), e.in("b")])], {}, e.outs),
  LogicalAnd: binary("And"),
  LogicalOr: binary("Or"),
  Select: (e) => void e.g.node("Where", [e.in("condition"), e.in("t"), e.in("e")], {}, e.outs),
  Cast: (e) => void e.g.node("Cast", [e.in("x")], { to: int(elemOf(e.attr<tf.DataType>("dtype"))) }, e.outs),
  Reshape: (e) => void e.g.node("Reshape", [e.in("x"), e.int64(e.linear("shape"))], {}, e.outs),
  Transpose: (e) => void e.g.node("Transpose", [e.in("x")], { perm: ints(e.attr<number[]>("perm")) }, e.outs),
  ExpandDims: (e) => void e.g.node("Unsqueeze", [e.in("input"), e.g.int64s([normAxis(e.attr<number>("dim"), e.outShape().length)])], {}, e.outs),
  Squeeze: (e) => void e.g.node("Squeeze", [e.in("x"), e.g.int64s(axesOf(e.attr<number[]>("axis"), e.inShape("x").length))], {}, e.outs),
  Concat: (e) => void e.g.node("Concat", e.list(), { axis: int(normAxis(e.attr<number>("axis"), e.outShape().length)) }, e.outs),
  Pack: (e) => {
    const axis = normAxis(e.attr<number>("axis"), e.outShape().length);
    e.g.node("Concat", e.list().map((x) => e.g.op("Unsqueeze", [x, e.g.int64s([axis])])), { axis: int(axis) }, e.outs);
  },
  Unpack: (e) => {
    const axis = normAxis(e.attr<number>("axis"), e.inShape("value").length);
    const parts = e.g.node("Split", [e.in("value"), e.g.int64s(e.outs.map(() => 1))], { axis: int(axis) }, e.outs.length);
    parts.forEach((p, i) => e.g.node("Squeeze", [p, e.g.int64s([axis])], {}, [e.outs[i]!]));
  },
  SplitV: (e) => {
    const axis = normAxis(e.attr<number>("axis"), e.inShape("x").length);
    const sizes = e.outs.map((_, i) => e.outShape(i)[axis]!);
    e.g.node("Split", [e.in("x"), e.g.int64s(sizes)], { axis: int(axis) }, e.outs);
  },
  Slice: (e) => {
    const begin = e.linear("begin");
    const size = e.linear("size");
    const ends = size.map((s, i) => (s.a === 0 && s.c === -1 ? { a: 0, c: Number.MAX_SAFE_INTEGER } : { a: begin[i]!.a + s.a, c: begin[i]!.c + s.c }));
    e.g.node("Slice", [e.in("x"), e.int64(begin), e.int64(ends), e.g.int64s(begin.map((_, i) => i))], {}, e.outs);
  },
  Tile: (e) => void e.g.node("Tile", [e.in("x"), e.int64(e.linear("reps"))], {}, e.outs),
  BroadcastTo: (e) => void e.g.node("Expand", [e.in("x"), e.int64(e.linear("shape"))], {}, e.outs),
  PadV2: (e) => {
    const flat = e.linear("paddings"); // [[b0, a0], [b1, a1], …] flattened
    const pads = [...flat.filter((_, i) => i % 2 === 0), ...flat.filter((_, i) => i % 2 === 1)];
    e.g.node("Pad", [e.in("x"), e.int64(pads), e.g.scalar(e.attr<number>("constantValue"))], {}, e.outs);
  },
  Fill: (e) => fill(e, e.int64(e.linear("shape")), e.attr<number>("value"), e.attr<tf.DataType>("dtype")),
  ZerosLike: (e) => fill(e, e.g.op("Shape", [e.in("x")]), 0, e.inType("x")),
  OnesLike: (e) => fill(e, e.g.op("Shape", [e.in("x")]), 1, e.inType("x")),
  GatherV2: (e) => {
    if (e.attr<number>("batchDims")) throw new Error("GatherV2 with batchDims has no ONNX mapping here");
    e.g.node("Gather", [e.in("x"), e.in("indices")], { axis: int(normAxis(e.attr<number>("axis"), e.inShape("x").length)) }, e.outs);
  },
  Softmax: (e) => void e.g.node("Softmax", [e.in("logits")], { axis: int(e.attr<number>("dim")) }, e.outs),
  Mean: reduce("ReduceMean", "axis"),
  Sum: reduce("ReduceSum", "axis"),
  Max: reduce("ReduceMax", "reductionIndices"),
  Min: reduce("ReduceMin", "axis"),
  Prod: reduce("ReduceProd", "axis"),
  BatchMatMul: (e) => batchMatMul(e, e.in("a"), e.in("b"), e.outs),
  _FusedMatMul: (e) => {
    const product = e.g.fresh("matmul");
    batchMatMul(e, e.in("a"), e.in("b"), [product]);
    const biased = e.has("bias") ? e.g.op("Add", [product, e.in("bias")]) : product;
    ACTIVATIONS[e.attr<string>("activation") ?? "linear"]!(e, biased, e.outs);
  },
  FusedBatchNorm: (e) => {
    const eps = e.g.scalar(e.attr<number>("varianceEpsilon"));
    const inv = e.g.op("Reciprocal", [e.g.op("Sqrt", [e.g.op("Add", [e.in("variance"), eps])])]);
    const scaled = e.has("scale") ? e.g.op("Mul", [inv, e.in("scale")]) : inv;
    const centred = e.g.op("Mul", [e.g.op("Sub", [e.in("x"), e.in("mean")]), scaled]);
    e.g.node(e.has("offset") ? "Add" : "Identity", e.has("offset") ? [centred, e.in("offset")] : [centred], {}, e.outs);
  },
  Conv2D: (e) => {
    if (e.attr<string>("dataFormat") !== "NHWC") throw new Error(`Conv2D in ${e.attr("dataFormat")} has no ONNX mapping here`);
    inNchw(e, "Conv", [filterOIHW(e)], { strides: ints(pair(e.attr("strides"))), dilations: ints(pair(e.attr("dilations"))), ...padAttrs(e.attr("pad")) });
  },
  MaxPool: (e) => inNchw(e, "MaxPool", [], { kernel_shape: ints(pair(e.attr("filterSize"))), strides: ints(pair(e.attr("strides"))), ...padAttrs(e.attr("pad")) }),
  AvgPool: (e) => inNchw(e, "AveragePool", [], { kernel_shape: ints(pair(e.attr("filterSize"))), strides: ints(pair(e.attr("strides"))), count_include_pad: int(0), ...padAttrs(e.attr("pad")) }),
};
