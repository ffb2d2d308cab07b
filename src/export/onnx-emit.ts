// Two traces of one forward (batch sizes b1 ≠ b2) become one ONNX graph with a dynamic batch:
// the traces must run the same kernels on the same inputs; an integer attribute that differs
// between them must be a·batch + c (a Reshape's shape holding the batch), and is then computed
// from the first input's batch dimension at run time; a constant whose shape differs must be one
// value filled (LSTM's zero state), made by ConstantOfShape. Anything else — a constant whose
// values differ (a tensor read back to JavaScript), different kernels per batch size — is refused.
import type * as tf from "@tensorflow/tfjs";
import { UserError } from "../util/errors.js";
import { OnnxGraph, type Elem } from "./onnx-graph.js";
import { elemOf, KERNELS, type Emit, type Linear } from "./onnx-kernels.js";
import type { Trace, TracedNode } from "./trace.js";

/** The network cannot be exported to ONNX (a kernel without a mapping, batch-dependent code): exit 2 naming where. */
export class ExportError extends UserError {}

interface ConstantPlan {
  static?: { shape: number[]; dtype: tf.DataType; values: tf.TypedArray };
  fill?: { shape: Linear[]; value: number; dtype: tf.DataType };
}

/** What both traces agree on: trace 1, plus the batch-dependent attributes and constants. */
export interface Unified {
  trace: Trace;
  /** Node index → attribute name → its integers as Linears (only attributes that differ). */
  dynamic: Map<number, Map<string, Linear[]>>;
  constants: Map<number, ConstantPlan>;
}

const flat = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flat) : [v]);

/** a·b + c through (b1, v1) and (b2, v2), or undefined when a or c is not an integer. */
function linearThrough(v1: number, v2: number, b1: number, b2: number): Linear | undefined {
  const a = (v2 - v1) / (b2 - b1);
  const c = v1 - a * b1;
  return Number.isInteger(a) && Number.isInteger(c) ? { a, c } : undefined;
}

const sameValues = (x: ArrayLike<number>, y: ArrayLike<number>) => x.length === y.length && Array.prototype.every.call(x, (v: number, i: number) => v === y[i] || (Number.isNaN(v) && Number.isNaN(y[i]!)));
const uniform = (x: ArrayLike<number>) => x.length > 0 && Array.prototype.every.call(x, (v: number) => v === x[0]);

/** Aligns trace `t2` (batch b2) with `t1` (batch b1); throws ExportError naming the first disagreement. */
export function unify(t1: Trace, t2: Trace, b1: number, b2: number): Unified {
  const u: Unified = { trace: t1, dynamic: new Map(), constants: new Map() };
  const ids = new Map<number, number>(); // t2 id → t1 id
  t2.inputs.forEach((id, i) => ids.set(id, t1.inputs[i]!));
  const varIds = new Map([...t1.variables].map(([id, name]) => [name, id]));
  for (const [id, name] of t2.variables) ids.set(id, varIds.get(name)!);
  const differ = (i: number, what: string) =>
    new ExportError(`${t1.nodes[i]?.scope ?? "the network"}: ${what} differs between batch sizes ${b1} and ${b2}, so the model cannot be exported with a dynamic batch (kernel ${t1.nodes[i]?.kernel ?? "?"}, node ${i})`);
  if (t1.nodes.length !== t2.nodes.length) throw differ(Math.min(t1.nodes.length, t2.nodes.length), `the number of kernels run (${t1.nodes.length} vs ${t2.nodes.length})`);
  t1.nodes.forEach((n1, i) => {
    const n2 = t2.nodes[i]!;
    if (n1.kernel !== n2.kernel || n1.outputs.length !== n2.outputs.length) throw differ(i, `the kernel run (${n1.kernel} vs ${n2.kernel})`);
    for (const [key, id1] of Object.entries(n1.inputs)) {
      const id2 = n2.inputs[key];
      if (id2 === undefined) throw differ(i, `input ${key}`);
      if (ids.has(id2)) {
        if (ids.get(id2) !== id1) throw differ(i, `where input ${key} comes from`);
        continue;
      }
      const c1 = t1.constants.get(id1);
      const c2 = t2.constants.get(id2);
      if (!c1 || !c2) throw differ(i, `where input ${key} comes from`);
      ids.set(id2, id1);
      u.constants.set(id1, planConstant(c1, c2, b1, b2, () => differ(i, `a constant (input ${key})`)));
    }
    n1.outputs.forEach((id, k) => ids.set(n2.outputs[k]!, id));
    const dyn = new Map<string, Linear[]>();
    for (const name of new Set([...Object.keys(n1.attrs), ...Object.keys(n2.attrs)])) {
      const a1 = flat(n1.attrs[name]);
      const a2 = flat(n2.attrs[name]);
      if (a1.length !== a2.length) throw differ(i, `attribute ${name}`);
      if (a1.every((v, j) => v === a2[j])) continue;
      dyn.set(name, a1.map((v, j) => {
        const lin = typeof v === "number" && typeof a2[j] === "number" ? linearThrough(v, a2[j] as number, b1, b2) : undefined;
        if (!lin) throw differ(i, `attribute ${name}`);
        return lin;
      }));
    }
    if (dyn.size) u.dynamic.set(i, dyn);
  });
  return u;
}

function planConstant(c1: NonNullable<ReturnType<Trace["constants"]["get"]>>, c2: typeof c1, b1: number, b2: number, differ: () => ExportError): ConstantPlan {
  const sameShape = c1.shape.length === c2.shape.length && c1.shape.every((d, i) => d === c2.shape[i]);
  if (sameShape && sameValues(c1.values as ArrayLike<number>, c2.values as ArrayLike<number>)) return { static: c1 };
  if (!sameShape && c1.shape.length === c2.shape.length && uniform(c1.values as ArrayLike<number>) && uniform(c2.values as ArrayLike<number>) && c1.values[0] === c2.values[0]) {
    const shape = c1.shape.map((d, i) => linearThrough(d, c2.shape[i]!, b1, b2));
    if (shape.every(Boolean)) return { fill: { shape: shape as Linear[], value: c1.values[0] as number, dtype: c1.dtype } };
  }
  throw differ();
}

export interface GraphIo {
  inputs: { name: string; elem: Elem }[];
  outputs: string[];
}

/** The ONNX graph of a unified trace; every kernel without a mapping is reported at once, by where it ran. */
export function emitGraph(u: Unified, variables: ReadonlyMap<string, tf.Variable>, io: GraphIo): OnnxGraph {
  const { trace } = u;
  const unmapped = [...new Set(trace.nodes.filter((n) => !KERNELS[n.kernel]).map((n) => `${n.scope}: kernel ${n.kernel}`))];
  if (unmapped.length) {
    throw new ExportError(`no ONNX mapping for what these parts of the network run (src/export/onnx-kernels.ts maps tfjs kernels to ONNX operators):\n  ${unmapped.join("\n  ")}\nThe model cannot be exported to ONNX until those kernels are mapped.`);
  }
  const g = new OnnxGraph();
  const names = new Map<number, string>();
  trace.inputs.forEach((id, i) => names.set(id, g.fresh(io.inputs[i]!.name)));
  let batch: string | undefined;
  const batchSize = () => (batch ??= g.op("Shape", [names.get(trace.inputs[0]!)!], { start: { int: 0 }, end: { int: 1 } }));
  const int64 = (values: readonly Linear[]): string => {
    if (values.every((v) => v.a === 0)) return g.int64s(values.map((v) => v.c));
    const parts = values.map((v) => {
      if (v.a === 0) return g.int64s([v.c]);
      const scaled = v.a === 1 ? batchSize() : g.op("Mul", [batchSize(), g.int64s([v.a])]);
      return v.c === 0 ? scaled : g.op("Add", [scaled, g.int64s([v.c])]);
    });
    return g.op("Concat", parts, { axis: { int: 0 } });
  };
  const valueOf = (id: number): string => {
    let name = names.get(id);
    if (name) return name;
    const variable = trace.variables.get(id);
    const constant = u.constants.get(id);
    if (variable) {
      const v = variables.get(variable)!;
      name = g.constant(variable, v.dataSync(), v.shape, elemOf(v.dtype));
    } else if (constant?.static) {
      name = g.constant("const", constant.static.values as ArrayLike<number>, constant.static.shape, elemOf(constant.static.dtype));
    } else if (constant?.fill) {
      const { value, dtype, shape } = constant.fill;
      const tensor = { dims: [1], dataType: elemOf(dtype), rawData: new Uint8Array(new (dtype === "int32" ? Int32Array : Float32Array)([value]).buffer) };
      name = g.op("ConstantOfShape", [int64(shape)], { value: { tensor } });
    } else {
      name = g.fresh(`t${id}`);
    }
    names.set(id, name);
    return name;
  };
  trace.nodes.forEach((node, i) => emitNode(g, node, u.dynamic.get(i), trace, valueOf, int64, variables));
  io.outputs.forEach((out, i) => g.node("Identity", [valueOf(trace.outputs[i]!)], {}, [out]));
  return g;
}

function emitNode(
  g: OnnxGraph,
  node: TracedNode,
  dynamic: Map<string, Linear[]> | undefined,
  trace: Trace,
  valueOf: (id: number) => string,
  int64: (values: readonly Linear[]) => string,
  variables: ReadonlyMap<string, tf.Variable>,
): void {
  const shapeOf = (id: number | undefined) => (id === undefined ? [] : (trace.tensors.get(id)?.shape ?? []));
  const e: Emit = {
    g,
    kernel: node.kernel,
    in: (key) => {
      const id = node.inputs[key];
      if (id === undefined) throw new Error(`${node.kernel}: no input "${key}"`);
      return valueOf(id);
    },
    has: (key) => node.inputs[key] !== undefined,
    list: () => Object.keys(node.inputs).filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b)).map((k) => valueOf(node.inputs[k]!)),
    outs: node.outputs.map(valueOf),
    attr: <T>(name: string) => node.attrs[name] as T,
    linear: (name) => dynamic?.get(name) ?? flat(node.attrs[name]).map((c) => ({ a: 0, c: c as number })),
    int64,
    inShape: (key) => shapeOf(node.inputs[key]),
    outShape: (i = 0) => shapeOf(node.outputs[i]),
    inType: (key) => trace.tensors.get(node.inputs[key]!)?.dtype ?? "float32",
    weight: (key) => {
      const id = node.inputs[key]!;
      const variable = trace.variables.get(id);
      if (variable) {
        const v = variables.get(variable)!;
        return { name: variable, values: v.dataSync() as tf.TypedArray, shape: [...v.shape] };
      }
      const c = trace.constants.get(id);
      return c ? { name: "const", values: c.values, shape: c.shape } : undefined;
    },
  };
  try {
    KERNELS[node.kernel]!(e);
  } catch (err) {
    throw new ExportError(`${node.scope}: kernel ${node.kernel}: ${(err as Error).message}`);
  }
}
