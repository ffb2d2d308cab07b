// Autodiff against central finite differences on a whole tiny network (every module type,
// msr routing, batch norm in training mode, masked LSTM, masked max): the gradients the
// trainer gets are the derivatives of the forward pass.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { compileNetwork } from "../../src/graph/compile.js";
import { createRegistry } from "../../src/builtins.js";
import { Rng } from "../../src/util/rng.js";
import { randn, trainFc } from "../nn/helpers.js";

describe("gradients of the compiled network", () => {
  it("match central finite differences for sampled entries of every part", () => {
    const net = compileNetwork(
      {
        seed: 3,
        encoders: { image: { type: "small_cnn", dim: 8, channels: [4] }, text: { type: "lstm", hidden: 6, embedding_dim: 5 } },
        fusion: {
          layers: 2,
          modules: [{ type: "JRM", heads: 2, ffn_mult: 1, dropout: 0 }, { type: "CAM", heads: 2, ffn_mult: 1, dropout: 0 }, { type: "GTM" }, { type: "RCM" }],
          router: { type: "msr", combine: "gate", hidden: 4 },
        },
      },
      createRegistry(),
      { vocabulary: { size: 7, words: [] }, filesDir: "." },
    );
    const reference = randn([3, 8, 8, 3], 1) as tf.Tensor4D;
    const target = randn([3, 8, 8, 3], 2) as tf.Tensor4D;
    const tokens = tf.tensor2d([[1, 2, 3], [4, 5, 0], [6, 0, 0]], undefined, "int32");
    const mask = tf.tensor2d([[1, 1, 1], [1, 1, 0], [1, 0, 0]]);
    const weightP = randn([3, 4, 4], 5); // makes the loss depend on the hidden routing directly too
    const loss = () =>
      tf.tidy(() => {
        const fc = trainFc(); // batch norm on batch moments; no dropout configured
        const out = net.encodeQuery({ reference, tokens, mask }, fc);
        const t = net.encodeTarget(target, fc);
        return tf.add(tf.sum(tf.mul(out.query, t)), tf.sum(tf.mul(out.paths[0]!, weightP))) as tf.Scalar;
      });
    const { grads } = tf.variableGrads(loss, net.store.trainable());
    const rng = new Rng(9);
    const parts = [
      "image.backbone.stages.0.0.weight",
      "image.backbone.stages.0.1.weight",
      "image.proj.weight",
      "text.embedding.weight",
      "text.rnn.weight_hh_l0",
      "text.rnn.bias_ih_l0",
      "fusion.layers.0.modules.0.attn.k.weight",
      "fusion.layers.0.modules.0.norm2.bias",
      "fusion.layers.1.modules.1.attn.q.weight",
      "fusion.layers.0.modules.2.gamma.weight",
      "fusion.layers.0.router.image.1.0.weight",
      "fusion.layers.0.router.text.3.2.bias",
      "fusion.layers.1.router.gate",
    ];
    const eps = 3e-3; // small enough to stay off ReLU kinks, large enough for float32
    const problems: string[] = [];
    for (const name of parts) {
      const v = net.store.variables.get(name)!;
      const g = grads[v.name]!.dataSync();
      const values = v.dataSync().slice() as Float32Array;
      for (let k = 0; k < 3; k++) {
        // an entry whose embedding row is used (token ids 1..6), elsewhere any entry
        const i = name === "text.embedding.weight" ? (1 + rng.int(6)) * 5 + rng.int(5) : rng.int(values.length);
        const at = (delta: number) => {
          const copy = values.slice();
          copy[i]! += delta;
          v.assign(tf.tensor(copy, v.shape));
          const l = loss();
          const out = l.dataSync()[0]!;
          l.dispose();
          return out;
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        v.assign(tf.tensor(values, v.shape));
        const err = Math.abs(numeric - g[i]!) / Math.max(1, Math.abs(numeric));
        if (err > 2e-2) problems.push(`${name}[${i}]: autodiff ${g[i]}, numeric ${numeric}`);
      }
    }
    expect(problems).toEqual([]);
    tf.dispose(grads);
    net.dispose();
  });
});
