// A planned capture (./plan.ts) encoded once into a native program with its memory plan
// (./memory-plan.ts), and replayed by one N-API call per step (native/src/program.cc): forward,
// backward, finite check and update. An inference forward's program has outputs (tensors handed
// back on the device) and no readback.
import * as tf from "@tensorflow/tfjs";

import type { ReplayProgram, ReplayProgramStats } from "../../replay-contract.js";
import type { TorchBackend } from "../backend.js";
import { dtypeCodes } from "../native.js";
import { releases } from "./memory-plan.js";
import type { ProgramPlan } from "./plan.js";
import type { RecordedUpload } from "./recorder.js";
import { reorder, schedule } from "./schedule.js";

/** The Int32Array/Float64Array encoding native/src/program-decode.cc `decode` reads. */
function encode(p: ProgramPlan, backend: TorchBackend, guard: number): { code: Int32Array; floats: Float64Array; uploads: RecordedUpload["values"][] } {
  const c = p.capture;
  const code: number[] = [];
  const floats: number[] = [];
  const used = c.inputs.filter((s) => s >= 0);
  code.push(c.slots, c.kernels.length, used.length, c.states.length, c.held.length, c.uploads.length, c.result.slot, c.result.at, guard);
  code.push(...used);
  for (const s of c.states) code.push(s.in, s.out, s.madeAt);
  for (const h of c.held) code.push(h.slot, backend.handle({ dataId: h.dataId, shape: [], dtype: "float32" }));
  for (const u of c.uploads) code.push(u.slot, dtypeCodes[u.dtype], u.shape.length, ...u.shape);
  const release = releases(c);
  c.kernels.forEach((kn, k) => {
    const bound = p.bindings.filter((b) => b.kernel === k);
    code.push(kn.op, kn.inputs.length, ...kn.inputs, kn.ints.length, ...kn.ints, kn.floats.length, bound.length);
    for (const b of bound) code.push(b.float, b.scalar);
    code.push(kn.outputs.length, ...kn.outputs, release[k]!.length, ...release[k]!);
    floats.push(...kn.floats);
  });
  code.push(c.outputs.length, ...c.outputs);
  return { code: Int32Array.from(code), floats: Float64Array.from(floats), uploads: c.uploads.map((u) => u.values) };
}

/** One replayable step or forward: `replay` runs it natively on the current inputs, variables and step scalars. */
export class NativeProgram implements ReplayProgram {
  readonly kernels: number;
  /** Update kernels (Adam's SdfnAdamStep, the distillation cache's SdfnRowsUpdate) the memory plan lets write into the state they update. */
  readonly updates: number;
  private readonly id: number;
  private readonly usedInputs: number[];
  private readonly handles: Int32Array;
  private readonly scalars: Float64Array;
  private disposed = false;

  private readonly p: ProgramPlan;

  /**
   * `scheduled`: the kernels in the memory plan's order (./schedule.ts: losses read after the
   * forward pass, each update right after the backward pass is done with its inputs); recorded
   * order otherwise (a CUDA graph covers the kernels before the readback: forward and backward).
   */
  constructor(
    private readonly backend: TorchBackend,
    planned: ProgramPlan,
    guard: number,
    scheduled: boolean,
  ) {
    const p = scheduled ? reorder(planned, schedule(planned.capture)) : planned;
    this.p = p;
    const { code, floats, uploads } = encode(p, backend, guard);
    this.id = backend.native.addon.programCreate(code, floats, uploads);
    this.kernels = p.capture.kernels.length;
    this.updates = backend.native.addon.programStats(this.id)[6] ?? 0;
    this.usedInputs = p.capture.inputs.flatMap((s, k) => (s >= 0 ? [k] : []));
    this.handles = new Int32Array(this.usedInputs.length + p.capture.states.length);
    this.scalars = new Float64Array(Math.max(1, p.scalarNames.length));
  }

  /** Whether this step's scalars keep the values the program pinned. */
  accepts(scalars: Readonly<Record<string, number>>): boolean {
    for (const [name, value] of this.p.pinned) if (!Object.is(scalars[name], value)) return false;
    return true;
  }

  /**
   * Runs the step: inputs in the declared order; returns the packed losses, whether the update ran
   * (true without a readback) and the declared outputs as new tensors (the caller's to dispose).
   */
  replay(inputs: readonly tf.Tensor[], scalars: Readonly<Record<string, number>>, seed: number): { values: Float32Array; finite: boolean; outputs: tf.Tensor[] } {
    const b = this.backend;
    this.usedInputs.forEach((k, j) => (this.handles[j] = b.handle(inputs[k]!)));
    const n = this.usedInputs.length;
    this.p.capture.states.forEach((s, j) => {
      // The replay binds new values to the variable's handle: a value shared with another variable is copied apart first.
      if (s.out >= 0 && b.shared(s.variable)) tf.tidy(() => s.variable.assign(tf.reshape(s.variable, s.variable.shape)));
      this.handles[n + j] = b.handle(s.variable);
    });
    this.p.scalarNames.forEach((name, k) => {
      const v = scalars[name];
      if (v === undefined) throw new Error(`replay: the step scalar "${name}" was not given`);
      this.scalars[k] = v;
    });
    const values = new Float32Array(this.p.capture.result.size);
    const finite = b.native.addon.programReplay(this.id, this.handles, this.scalars, seed >>> 0, values);
    const outputs = finite ? b.adoptOutputs(this.p.capture.outputs.length).map((info) => tf.engine().makeTensorFromTensorInfo(info, b)) : [];
    return { values, finite, outputs };
  }

  stats(): ReplayProgramStats {
    const [kernels, replays, totalNs, kernelNs, inPlace, overwrites] = this.backend.native.addon.programStats(this.id);
    const hostMicrosPerKernel = replays && kernels ? (totalNs - kernelNs) / 1e3 / replays / kernels : NaN;
    return { replays, hostMicrosPerKernel, inPlaceUpdates: inPlace ?? 0, overwrites: overwrites ?? 0 };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.backend.native.addon.programFree(this.id);
  }
}
