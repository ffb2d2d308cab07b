import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { adam } from "../../src/train/optimizers/adam.js";
import { adamw } from "../../src/train/optimizers/adamw.js";
import type { Optimizer } from "../../src/registry/kinds-training.js";

tf.env().set("IS_TEST", true);

// Three steps of loss = ½(k+1)·Σp² + Σb³ with global-norm clipping at 1, weight
// decay 0.1, betas (0.9, 0.99), lr 0.05 and "image.backbone.b" at half the lr.
// Expected values from torch.optim.Adam / AdamW (PyTorch 1.13, CPU) with
// clip_grad_norm_ and a second param group at lr·0.5.
function run(decl: typeof adam | typeof adamw): { p: number[]; b: number[] } {
  const p = tf.tidy(() => tf.variable(tf.tensor1d([1, -2, 0.5])));
  const b = tf.tidy(() => tf.variable(tf.tensor2d([[0.3, 0.4]])));
  const params = decl.params.parse({ lr: 0.05, weight_decay: 0.1, betas: [0.9, 0.99], backbone_lr_mult: 0.5, grad_clip: 1 });
  const opt: Optimizer = decl.build(params, { variables: new Map<string, tf.Variable>([["p", p], ["image.backbone.b", b]]) });
  for (let k = 0; k < 3; k++) {
    const grads = tf.tidy(() => ({ p: tf.mul(p, k + 1), "image.backbone.b": tf.mul(tf.square(b), 3) }));
    opt.apply(grads, 0.05);
    tf.dispose(Object.values(grads));
  }
  const out = { p: [...p.dataSync()], b: [...b.dataSync()] };
  opt.dispose();
  p.dispose();
  b.dispose();
  return out;
}

const close = (got: number[], want: number[]) => want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 5));

describe("adam", () => {
  it("matches torch.optim.Adam (L2 decay in the gradient), with clipping and a backbone lr multiplier", () => {
    const before = tf.memory().numTensors;
    const { p, b } = run(adam);
    close(p, [0.8500561714172363, -1.8499414920806885, 0.3504123389720917]);
    close(b, [0.22896893322467804, 0.3289484977722168]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("adamw", () => {
  it("matches torch.optim.AdamW (decoupled decay)", () => {
    const { p, b } = run(adamw);
    close(p, [0.8358381390571594, -1.8208086490631104, 0.343636691570282]);
    close(b, [0.2290964275598526, 0.32783299684524536]);
  });

  it("saves and restores its moments so that updates continue identically", async () => {
    const make = () => {
      const v = tf.variable(tf.tensor1d([1, 2]));
      return { v, opt: adamw.build(adamw.params.parse({ lr: 0.1 }), { variables: new Map([["v", v]]) }) };
    };
    const a = make();
    const g = tf.tensor1d([0.5, -1]);
    a.opt.apply({ v: g }, 0.1);
    const state = await a.opt.save();
    const bOpt = make();
    bOpt.v.assign(a.v);
    bOpt.opt.load(state);
    a.opt.apply({ v: g }, 0.1);
    bOpt.opt.apply({ v: g }, 0.1);
    expect(bOpt.opt.steps).toBe(2);
    expect([...bOpt.v.dataSync()]).toEqual([...a.v.dataSync()]);
  });
});
