// Recording a forward pass as a graph of tfjs kernels, for the ONNX exporter: every kernel the
// engine runs at the top level (with an ONNX mapping, or none and nothing inside it) becomes a
// node with its inputs, attributes and outputs; a kernel without a mapping that runs others (a
// composite, customGrad's convolution) is recorded by what it runs. Tensors a node reads that no
// node made are the graph's inputs, the network's variables (by parameter name), or constants
// (their values copied). Each node also records which part of the network ran it (a module, a
// router, an encoder), so an unmapped kernel is reported there.
import * as tf from "@tensorflow/tfjs";

/** A tensor a node reads or makes, by the tfjs tensor id. */
export interface TracedNode {
  kernel: string;
  /** Input name → tensor id (list inputs — Concat, Pack — have names "0", "1", …). */
  inputs: Record<string, number>;
  attrs: Record<string, unknown>;
  outputs: number[];
  /** The part of the network that ran it ("fusion.modules[1] (CAM) in layer 2", …). */
  scope: string;
}

export interface TracedTensor {
  shape: number[];
  dtype: tf.DataType;
}

export interface Trace {
  nodes: TracedNode[];
  /** Graph inputs in order: their ids. */
  inputs: number[];
  outputs: number[];
  /** Id → the variable's parameter name. */
  variables: Map<number, string>;
  /** Id → a constant's values (read when first used), in order of first use. */
  constants: Map<number, { shape: number[]; dtype: tf.DataType; values: tf.TypedArray }>;
  /** Every tensor's shape and dtype. */
  tensors: Map<number, TracedTensor>;
}

interface KernelCall {
  kernelName?: string;
  inputs: Record<string, tf.Tensor> | tf.Tensor[];
  attrs?: Record<string, unknown>;
}

/** Scopes pushed while a part of the network runs (see `scoped`). */
const scopes: string[] = [];

/** Runs `fn` with `label` as the scope its kernels are recorded under. */
export function scoped<T>(label: string, fn: () => T): T {
  scopes.push(label);
  try {
    return fn();
  } finally {
    scopes.pop();
  }
}

/**
 * Records the kernels `run` executes on `inputs` (its result: the graph's outputs). `mapped(name)`
 * says whether a kernel has an ONNX mapping; `variables` names the network's parameters.
 */
export function traceForward(inputs: tf.Tensor[], variables: ReadonlyMap<string, tf.Variable>, mapped: (kernel: string) => boolean, run: () => tf.Tensor[]): Trace {
  const engine = tf.engine() as unknown as { runKernelFunc(call: KernelCall): tf.Tensor | tf.Tensor[] };
  const original = engine.runKernelFunc;
  const trace: Trace = { nodes: [], inputs: inputs.map((t) => t.id), outputs: [], variables: new Map(), constants: new Map(), tensors: new Map() };
  for (const [name, v] of variables) trace.variables.set(v.id, name);
  const made = new Set<number>(trace.inputs);
  const note = (t: tf.Tensor) => trace.tensors.set(t.id, { shape: [...t.shape], dtype: t.dtype });
  inputs.forEach(note);
  let inside = 0; // > 0 while a recorded kernel runs (its own inner calls are its implementation)
  engine.runKernelFunc = function (this: unknown, call: KernelCall) {
    const name = call.kernelName;
    if (inside > 0 || !name || !mapped(name)) {
      // customGrad or an unmapped kernel: what it runs is recorded (an unmapped kernel running nothing, below)
      const before = trace.nodes.length;
      const result = original.call(this, call);
      if (inside === 0 && name && trace.nodes.length === before) record(name, call, result);
      return result;
    }
    inside++;
    let result;
    try {
      result = original.call(this, call);
    } finally {
      inside--;
    }
    record(name, call, result);
    return result;
  } as typeof engine.runKernelFunc;

  function record(kernel: string, call: KernelCall, result: tf.Tensor | tf.Tensor[]): void {
    const ins: Record<string, number> = {};
    for (const [key, t] of Object.entries(call.inputs)) {
      if (!t) continue;
      ins[key] = t.id;
      if (trace.variables.has(t.id)) note(t);
      else if (!made.has(t.id) && !trace.variables.has(t.id) && !trace.constants.has(t.id)) {
        trace.constants.set(t.id, { shape: [...t.shape], dtype: t.dtype, values: t.dataSync().slice() as tf.TypedArray });
        note(t);
      }
    }
    const outs = Array.isArray(result) ? result : [result];
    for (const t of outs) {
      made.add(t.id);
      note(t);
    }
    trace.nodes.push({ kernel, inputs: ins, attrs: { ...(call.attrs ?? {}) }, outputs: outs.map((t) => t.id), scope: scopes.at(-1) ?? "the network" });
  }

  try {
    const outputs = tf.tidy(() => {
      const out = run();
      trace.outputs = out.map((t) => t.id);
      return out;
    });
    tf.dispose(outputs);
  } finally {
    engine.runKernelFunc = original;
  }
  for (const id of trace.outputs) {
    if (!made.has(id)) throw new Error("trace: an output of the forward was made by no kernel (an input passed through?)");
  }
  return trace;
}
