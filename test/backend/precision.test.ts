// training.precision bf16 on the torch backend: convolutions and matrix products take bfloat16
// operands (as torch.autocast does), everything else stays fp32.
// - Kernels against PyTorch's own bf16 kernels (python3-torch, the same ATen as the addon here):
//   they agree, while the fp32 result measurably differs.
// - A whole SDFN training step (the exchange of the parity tests): bf16 within a tolerance of fp32.
// - Elsewhere bf16 is an error that says what to change.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { exportParity } from "../../bench/reference/exchange.js";
import { useBackend } from "../../src/backend/index.js";
import { setPrecision } from "../../src/backend/precision.js";
import { readSafetensors } from "../../src/io/safetensors.js";
import { loadRecipe } from "../../src/recipe/index.js";
import { Rng } from "../../src/util/rng.js";
import { missing, PYTHON } from "../support/requires.js";
import { CASES } from "../reference/cases.js";

tf.env().set("PROD", true);
const noAddon = missing("addon");
const noReference = noAddon || missing("pythonTorch");
const work = mkdtempSync(join(tmpdir(), "sdfn-precision-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** max |a − b| / max |b| */
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  let s = 1e-30;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
};
const random = (n: number, rng: Rng) => Float32Array.from({ length: n }, () => rng.normal());

// PyTorch's bf16 kernels on the CPU, as sdfn calls them (channels-last conv operands, fp32 back).
const REFERENCE = `
import json, sys, torch
d = json.load(sys.stdin)
t = lambda k: torch.tensor(d[k], dtype=torch.float32).reshape(d[k + "shape"])
if d["op"] == "matmul":
    out = {"y": torch.matmul(t("a").bfloat16(), t("b").bfloat16()).float().flatten().tolist()}
else:
    cl = torch.channels_last
    x = t("x").permute(0, 3, 1, 2).contiguous(memory_format=cl).bfloat16().requires_grad_()
    w = t("w").permute(3, 2, 0, 1).contiguous(memory_format=cl).bfloat16().requires_grad_()
    y = torch.nn.functional.conv2d(x, w, padding=1)
    y.sum().backward()
    nhwc = lambda v: v.float().permute(0, 2, 3, 1).flatten().tolist()
    out = {"y": nhwc(y), "dx": nhwc(x.grad), "dw": w.grad.float().permute(2, 3, 1, 0).flatten().tolist()}
print(json.dumps(out))
`;
function python(op: string, data: Record<string, unknown>): { y?: number[]; dx?: number[]; dw?: number[] } {
  const r = spawnSync(PYTHON, ["-c", REFERENCE], { input: JSON.stringify({ op, ...data }), encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" } });
  if (r.status !== 0) throw new Error(`${PYTHON}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe.skipIf(noReference)("bf16 autocast on the torch backend", () => {
  beforeAll(async () => {
    await useBackend("torch");
  });
  afterEach(() => setPrecision("fp32"));
  afterAll(async () => {
    setPrecision("fp32");
    await tf.setBackend("cpu");
  });

  /** fn on the torch backend at `precision`. */
  async function onTorch(precision: "fp32" | "bf16", fn: (...xs: tf.Tensor[]) => tf.Tensor, inputs: { values: Float32Array; shape: number[] }[]) {
    setPrecision(precision);
    const out = tf.tidy(() => fn(...inputs.map((x) => tf.tensor(x.values, x.shape))));
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  }

  it("matMul takes bf16 operands: PyTorch's own bf16 matmul (same ATen) agrees, fp32 does not", async () => {
    const rng = new Rng(1);
    const a = { values: random(6 * 64, rng), shape: [6, 64] };
    const b = { values: random(64 * 5, rng), shape: [64, 5] };
    const ref = python("matmul", { a: Array.from(a.values), ashape: a.shape, b: Array.from(b.values), bshape: b.shape });
    const bf = await onTorch("bf16", (x, y) => tf.matMul(x, y), [a, b]);
    const fp = await onTorch("fp32", (x, y) => tf.matMul(x, y), [a, b]);
    expect(relErr(bf, ref.y!)).toBeLessThanOrEqual(1e-3);
    expect(relErr(fp, ref.y!)).toBeGreaterThan(2e-3); // fp32 is measurably another result
  });

  it("conv2d forward and both of its gradients take bf16 operands, as PyTorch's bf16 conv and its autograd", async () => {
    const rng = new Rng(2);
    const x = { values: random(2 * 6 * 6 * 4, rng), shape: [2, 6, 6, 4] };
    const w = { values: random(3 * 3 * 4 * 5, rng), shape: [3, 3, 4, 5] };
    const ref = python("conv", { x: Array.from(x.values), xshape: x.shape, w: Array.from(w.values), wshape: w.shape });
    const conv = (xs: tf.Tensor, ws: tf.Tensor) => tf.conv2d(xs as tf.Tensor4D, ws as tf.Tensor4D, 1, "same");
    // Gradients of sum(conv(x, w)): dx through Conv2DBackpropInput, dw through Conv2DBackpropFilter.
    const fns = {
      y: conv,
      dx: (xs: tf.Tensor, ws: tf.Tensor) => tf.grad((v: tf.Tensor) => conv(v, ws).sum())(xs),
      dw: (xs: tf.Tensor, ws: tf.Tensor) => tf.grad((v: tf.Tensor) => conv(xs, v).sum())(ws),
    };
    for (const [name, fn] of Object.entries(fns)) {
      const bf = await onTorch("bf16", fn, [x, w]);
      const fp = await onTorch("fp32", fn, [x, w]);
      const expected = ref[name as keyof typeof ref]!;
      expect(relErr(bf, expected), `${name} bf16`).toBeLessThanOrEqual(1e-3);
      expect(relErr(fp, expected), `${name} fp32`).toBeGreaterThan(2e-3);
    }
  });

  it("a whole SDFN training step in bf16 stays near fp32: outputs and losses within 3%, the gradient within 8% in norm, cosine ≥ 0.997", async () => {
    const c = CASES.find((k) => k.training)!; // small_cnn, lstm, JRM/CAM/GTM, all losses, batch norm from the batch
    const { writeFileSync, mkdirSync } = await import("node:fs");
    const exported: Record<string, Record<string, { data: ArrayLike<number> }>> = {};
    for (const precision of ["fp32", "bf16"] as const) {
      const dir = join(work, precision);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "recipe.yaml"), c.yaml);
      setPrecision(precision);
      const files = await exportParity(await loadRecipe(join(dir, "recipe.yaml")), dir, c.shape, { training: true });
      exported[precision] = readSafetensors(files.batch).tensors as never;
    }
    const names = Object.keys(exported.fp32!).filter((n) => n.startsWith("output.") || n.startsWith("grad."));
    const value = (p: "fp32" | "bf16", n: string) => exported[p]![n]!.data;
    const outputs = names.filter((n) => n.startsWith("output."));
    const grads = names.filter((n) => n.startsWith("grad."));
    expect(grads.length).toBeGreaterThan(10);
    const outputErrors = Object.fromEntries(outputs.map((n) => [n, relErr(value("bf16", n), value("fp32", n))]));
    // All gradients as one vector: the direction and size the optimizer sees.
    let dot = 0, bb = 0, ff = 0, dd = 0;
    for (const n of grads) {
      const b = value("bf16", n), f = value("fp32", n);
      for (let i = 0; i < f.length; i++) {
        dot += b[i]! * f[i]!;
        bb += b[i]! * b[i]!;
        ff += f[i]! * f[i]!;
        dd += (b[i]! - f[i]!) ** 2;
      }
    }
    const cosine = dot / Math.sqrt(bb * ff);
    const normError = Math.sqrt(dd / ff);
    const measured = JSON.stringify({ outputErrors, cosine, normError });
    // bf16 keeps 8 significant bits (rounding ≤ 2^-9 relative per operand) and libtorch 1.13's CPU
    // kernels also accumulate bf16 products in bf16, so a product over K terms is off by about
    // 2^-9·√K of its scale: 1–2% for K = 16..144 here (CUDA accumulates in fp32: less). Seen on
    // this recipe: outputs and losses ≤ 1.0%, the gradient vector ~3% off in norm. Single
    // gradient tensors that arise from cancellations (the routers' softmax over near-equal routes,
    // attention key biases that are zero in theory) can be far off relatively, with little norm,
    // as under torch.autocast; so gradients are judged as the one vector the optimizer applies.
    // Seen: outputs ≤ 1.0%, cosine 0.99945, norm error 3.3%; the bounds leave 2–5× of room.
    for (const [n, e] of Object.entries(outputErrors)) expect(e, `${n}: ${measured}`).toBeLessThanOrEqual(0.03);
    expect(cosine, measured).toBeGreaterThanOrEqual(0.997);
    expect(normError, measured).toBeLessThanOrEqual(0.08);
    expect(normError, `bf16 changes the step at all: ${measured}`).toBeGreaterThan(1e-4);
  });
});

describe("bf16 elsewhere", () => {
  it("is an error on a backend without autocast, naming what to change; fp32 is accepted", async () => {
    await tf.setBackend("cpu");
    expect(() => setPrecision("fp32")).not.toThrow();
    expect(() => setPrecision("bf16")).toThrow(/training\.precision: bf16 needs the torch backend .* this run uses "cpu"; set backend: torch/);
  });
});
