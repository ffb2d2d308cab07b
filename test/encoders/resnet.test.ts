// The ResNet family: torchvision names and layouts loaded from a generated safetensors file,
// checked against a PyTorch ResNet-18 at 64 px (eval and train batch norm), freezing, the
// feature-cache path, and ResNet-50's shapes and parameter count.
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resnet18, resnet34, resnet50 } from "../../src/encoders/resnet.js";
import { exportTorchWeights } from "../../src/encoders/torch-weights.js";
import { writeSafetensors, type SafeTensor } from "../../src/io/safetensors.js";
import { normal, ParamStore, uniform } from "../../src/nn/scope.js";
import type { ImageEncoder } from "../../src/registry/kinds.js";
import { evalFc, randn, trainFc } from "../nn/helpers.js";
import { relativeError, tempDir, torchReference } from "./reference.js";
import { missing } from "../support/requires.js";

type Decl = typeof resnet18;

function build(decl: Decl, params: Record<string, unknown>, filesDir = ".", seed = 1) {
  const store = new ParamStore(seed);
  const encoder = decl.build(decl.params.parse({ dim: 8, ...params }), { dim: 8, scope: store.root().child("image"), filesDir });
  return { store, encoder: encoder as Required<ImageEncoder> };
}

/** Random batch-norm affine and running stats, so eval mode is not the identity. */
function scrambleNorms(store: ParamStore): void {
  for (const [name, v] of store.variables) {
    if (v.rank !== 1 || !name.includes("bn") && !name.includes("downsample.1")) continue;
    const init = name.endsWith("running_var") || name.endsWith(".weight") ? uniform(0.5) : normal(0.1);
    const offset = name.endsWith("running_var") || name.endsWith(".weight") ? 1 : 0;
    v.assign(tf.add(tf.tensor(init(store.rng, v.shape)), offset));
  }
}

/** A torchvision-style file of `store`'s backbone: plus an fc head and num_batches_tracked (I64). */
function torchvisionFile(store: ParamStore, prefix = ""): Record<string, SafeTensor> {
  const weights = exportTorchWeights(store.root().child("image.backbone"));
  const out: Record<string, SafeTensor> = {};
  for (const [k, v] of Object.entries(weights)) out[prefix + k] = v;
  out[`${prefix}fc.weight`] = { dtype: "F32", shape: [1000, 512], data: new Float32Array(512000) };
  out[`${prefix}fc.bias`] = { dtype: "F32", shape: [1000], data: new Float32Array(1000) };
  out[`${prefix}bn1.num_batches_tracked`] = { dtype: "I64", shape: [], data: new Uint8Array(8) };
  return out;
}

/** Each backbone variable's name with its sum and sum of squares (a cheap fingerprint). */
const backboneValues = (store: ParamStore) =>
  [...store.variables]
    .filter(([k]) => k.startsWith("image.backbone."))
    .map(([k, v]) => [k, tf.tidy(() => [tf.sum(v).dataSync()[0], tf.sum(tf.square(v)).dataSync()[0]])]);

describe("resnet18 with torchvision weights", () => {
  // one source network and its files, shared by the tests below
  let source: ReturnType<typeof build>;
  let file: Record<string, SafeTensor>;
  let dir: string;
  beforeAll(() => {
    source = build(resnet18, {});
    scrambleNorms(source.store);
    dir = tempDir();
    file = torchvisionFile(source.store);
    writeSafetensors(join(dir, "resnet18.safetensors"), file);
    const prefixed = Object.fromEntries(Object.entries(file).map(([k, v]) => [`model.${k}`, v]));
    writeSafetensors(join(dir, "timm.safetensors"), prefixed);
  });
  afterAll(() => source.store.dispose());

  it.skipIf(missing("pythonTorch"))("loads a torchvision file and matches PyTorch at 64 px in eval and train mode", () => {
    const loaded = build(resnet18, { weights: "resnet18.safetensors" }, dir, 99);
    expect(backboneValues(loaded.store)).toEqual(backboneValues(source.store));

    // 64 px: layer4 is 2×2, so train-mode batch norm there averages 8 values, not 2
    const images = randn([2, 64, 64, 3], 3) as tf.Tensor4D;
    const ref = torchReference(["resnet", "18"], { ...file, "input.images": { dtype: "F32", shape: [2, 64, 64, 3], data: images.dataSync() as Float32Array } });
    const evalOut = loaded.encoder.backbone(images, evalFc);
    expect(evalOut.shape).toEqual([2, 2, 2, 512]);
    expect(relativeError(evalOut.dataSync(), ref["output.eval"]!.data as Float32Array)).toBeLessThan(1e-4);
    const trainOut = loaded.encoder.backbone(images, trainFc());
    expect(relativeError(trainOut.dataSync(), ref["output.train"]!.data as Float32Array)).toBeLessThan(1e-4);
    for (const stat of ["running_mean", "running_var"]) {
      const ours = loaded.store.variables.get(`image.backbone.bn1.${stat}`)!.dataSync();
      expect(relativeError(ours, ref[`output.bn1.${stat}`]!.data as Float32Array)).toBeLessThan(1e-4);
    }
    loaded.store.dispose();
  });

  it("loads timm names under a wrapper prefix (model.)", () => {
    const loaded = build(resnet18, { weights: "timm.safetensors", naming: "timm" }, dir, 5);
    expect(backboneValues(loaded.store)).toEqual(backboneValues(source.store));
    loaded.store.dispose();
  });

  it("refuses a file of another depth, naming what is missing and what to check", () => {
    expect(() => build(resnet34, { weights: "resnet18.safetensors" }, dir)).toThrow(/missing \(e\.g\. layer1\.2\.conv1\.weight.*check the encoder type/);
  });
});

describe("resnet freezing", () => {
  it("freeze: layer2 fixes the stem, layer1 and layer2 (weights and batch-norm stats), not layer3", () => {
    const { store, encoder } = build(resnet18, { freeze: "layer2" });
    const trainable = new Set(store.trainable().map((v) => v.name.split("@")[0]));
    expect(trainable.has("image.backbone.conv1.weight")).toBe(false);
    expect(trainable.has("image.backbone.layer2.1.bn2.weight")).toBe(false);
    expect(trainable.has("image.backbone.layer3.0.conv1.weight")).toBe(true);
    expect(trainable.has("image.proj.weight")).toBe(true);
    expect(encoder.backboneFrozen).toBe(false);
    const frozenStat = store.variables.get("image.backbone.layer2.0.bn1.running_mean")!;
    const liveStat = store.variables.get("image.backbone.layer3.0.bn1.running_mean")!;
    const [f0, l0] = [Array.from(frozenStat.dataSync()), Array.from(liveStat.dataSync())];
    tf.tidy(() => encoder.encode(randn([2, 32, 32, 3], 1) as tf.Tensor4D, trainFc()));
    expect(Array.from(frozenStat.dataSync())).toEqual(f0);
    expect(Array.from(liveStat.dataSync())).not.toEqual(l0);
    store.dispose();
  });

  it("freeze: all leaves only the projection trainable and marks the backbone cacheable", () => {
    const { store, encoder } = build(resnet18, { freeze: "all" });
    expect(store.trainable().map((v) => v.name.split("@")[0])).toEqual(["image.proj.weight", "image.proj.bias"]);
    expect(encoder.backboneFrozen).toBe(true);
    store.dispose();
  });
});

describe("feature-cache path", () => {
  it("encode(feature maps) = project(backbone(images)) = encode(images)", () => {
    const { store, encoder } = build(resnet18, {});
    const images = randn([2, 32, 32, 3], 4) as tf.Tensor4D;
    const maps = encoder.backbone(images, evalFc);
    expect(encoder.featureChannels).toBe(512);
    const a = encoder.encode(images, evalFc).arraySync();
    expect(encoder.encode(maps, evalFc).arraySync()).toEqual(a);
    expect(encoder.project(maps, evalFc).arraySync()).toEqual(a);
    store.dispose();
  });
});

describe("resnet50", () => {
  it("has torchvision's parameter count and gives (B, 1, d) tokens at 32 px, 7×7 at 224", () => {
    const { store, encoder } = build(resnet50, {});
    const count = (name: string) =>
      [...store.variables].filter(([k, v]) => k.startsWith(name) && v.trainable).reduce((s, [, v]) => s + v.size, 0);
    // torchvision resnet50: 25,557,032 parameters, of which the fc head has 2,049,000
    expect(count("image.backbone.")).toBe(25_557_032 - 2_049_000);
    expect(store.variables.get("image.backbone.layer4.2.conv3.weight")!.shape).toEqual([1, 1, 512, 2048]);
    expect(store.variables.get("image.proj.weight")!.shape).toEqual([1, 1, 2048, 8]);
    const tokens = tf.tidy(() => encoder.encode(randn([1, 32, 32, 3], 1) as tf.Tensor4D, evalFc));
    expect(tokens.shape).toEqual([1, 1, 8]);
    expect(encoder.grid(224)).toBe(7);
    store.dispose();
  });
});
