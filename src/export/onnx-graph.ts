// Building an ONNX model (opset 17) with the ONNX protobuf definition of onnx-proto: nodes,
// initializers (weights and constants as raw little-endian bytes), typed inputs and outputs with a
// symbolic batch dimension, encoded to the bytes of a .onnx file.
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;

export const OPSET = 17;
/** ONNX IR version 8 goes with opset 17 (onnx 1.12). */
const IR_VERSION = 8;

/** ONNX element types sdfn's graphs use. */
export const ELEM = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9 } as const;
export type Elem = (typeof ELEM)[keyof typeof ELEM];

export type Attr = { int: number } | { float: number } | { ints: readonly number[] } | { string: string } | { tensor: onnxProto.onnx.ITensorProto };

export const int = (v: number): Attr => ({ int: v });
export const float = (v: number): Attr => ({ float: v });
export const ints = (v: readonly number[]): Attr => ({ ints: v });

function attribute(name: string, a: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ("int" in a) return { name, type: T.INT, i: a.int };
  if ("float" in a) return { name, type: T.FLOAT, f: a.float };
  if ("ints" in a) return { name, type: T.INTS, ints: [...a.ints] };
  if ("string" in a) return { name, type: T.STRING, s: Buffer.from(a.string) };
  return { name, type: T.TENSOR, t: a.tensor };
}

/** A tensor's bytes in ONNX's raw_data layout (little-endian; bool as one byte each). */
export function rawBytes(values: ArrayLike<number> | BigInt64Array, elem: Elem): Uint8Array {
  const view = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (elem === ELEM.float32) return view(values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>));
  if (elem === ELEM.int32) return view(values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>));
  if (elem === ELEM.int64) return view(values instanceof BigInt64Array ? values : BigInt64Array.from(values as ArrayLike<number>, (v) => BigInt(v)));
  return Uint8Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0));
}

/** A graph under construction: unique value names, nodes in order, initializers. */
export class OnnxGraph {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly names = new Set<string>();
  private readonly int64Cache = new Map<string, string>();
  private counter = 0;

  /** A fresh value name starting with `hint`. */
  fresh(hint: string): string {
    let name = hint;
    while (this.names.has(name)) name = `${hint}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** Adds a node; returns its output names (`outputs` given, or `count` fresh ones). */
  node(op: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, outputs: readonly string[] | number = 1): string[] {
    const outs = typeof outputs === "number" ? Array.from({ length: outputs }, () => this.fresh(op.toLowerCase())) : [...outputs];
    this.nodes.push({ opType: op, input: [...inputs], output: outs, name: this.fresh(`${op}_node`), attribute: Object.entries(attrs).map(([n, a]) => attribute(n, a)) });
    return outs;
  }

  /** One-output node. */
  op(op: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    return this.node(op, inputs, attrs)[0]!;
  }

  /** An initializer holding `values` of shape `dims`. */
  constant(hint: string, values: ArrayLike<number> | BigInt64Array, dims: readonly number[], elem: Elem): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, dims: [...dims], dataType: elem, rawData: rawBytes(values, elem) });
    return name;
  }

  /** A 1-D int64 initializer (shapes, axes), shared between uses of the same values. */
  int64s(values: readonly number[]): string {
    const key = values.join(",");
    let name = this.int64Cache.get(key);
    if (!name) this.int64Cache.set(key, (name = this.constant("i64", values, [values.length], ELEM.int64)));
    return name;
  }

  /** A float32 scalar initializer. */
  scalar(value: number): string {
    return this.constant("f", [value], [], ELEM.float32);
  }
}

export interface GraphValue {
  name: string;
  elem: Elem;
  /** Dimensions; a string is symbolic ("batch"). */
  shape: readonly (number | string)[];
}

const valueInfo = (v: GraphValue): onnxProto.onnx.IValueInfoProto => ({
  name: v.name,
  type: { tensorType: { elemType: v.elem, shape: { dim: v.shape.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) } } },
});

/** The .onnx bytes of `graph` with its inputs and outputs. */
export function encodeModel(graph: OnnxGraph, o: { name: string; doc: string; inputs: GraphValue[]; outputs: GraphValue[]; producerVersion: string; metadata?: Record<string, string> }): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: "sdfn",
    producerVersion: o.producerVersion,
    docString: o.doc,
    opsetImport: [{ domain: "", version: OPSET }],
    metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: o.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: o.inputs.map(valueInfo),
      output: o.outputs.map(valueInfo),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
