// torchvision's own weight files, as torch.save writes them, into the ResNet encoders: a
// random-init resnet18() and resnet50() state dict (batch-norm statistics scrambled) written
// here by Debian's python3-torchvision (test/io/make_torch_files.py; nothing is committed),
// loaded with `weights: FILE.pth` and compared with torchvision's forward up to layer4 at 64 px,
// in eval mode and in train mode (batch statistics), to the relative errors stated at TOLERANCE.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PretrainedFileError } from "../../src/encoders/pretrained.js";
import { resnet18, resnet50 } from "../../src/encoders/resnet.js";
import { readSafetensors } from "../../src/io/safetensors.js";
import { ParamStore } from "../../src/nn/scope.js";
import type { ImageEncoder } from "../../src/registry/kinds.js";
import { evalFc, trainFc } from "../nn/helpers.js";
import { missing, PYTHON } from "../support/requires.js";
import { relativeError } from "./reference.js";

const MAKE = join(import.meta.dirname, "..", "io", "make_torch_files.py");
/**
 * Max |ours − torchvision| / max |torchvision| over the (2, 2, 2, C) feature maps. Eval mode: 1e-4
 * (measured 1.5e-6 / 2.0e-6 for resnet18 / resnet50). Train mode normalises layer4 by statistics of
 * 2 × 2 × 2 = 8 values, which amplifies float32 rounding: 9e-6 / 3.3e-4 measured, where PyTorch's own
 * float32 forward differs from its float64 one by 2.9e-4 on resnet50; 1e-3.
 */
const TOLERANCE = { eval: 1e-4, train: 1e-3 };

describe.skipIf(missing("pythonTorch", "torchvision"))("torchvision .pth files in the ResNet encoders", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sdfn-tv-"));
    execFileSync(PYTHON, [MAKE, "forward", dir], { stdio: ["ignore", "ignore", "pipe"] });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const build = (decl: typeof resnet18, weights: string) => {
    const store = new ParamStore(7);
    const encoder = decl.build(decl.params.parse({ dim: 8, weights }), { dim: 8, scope: store.root().child("image"), filesDir: dir });
    return { store, encoder: encoder as Required<ImageEncoder> };
  };

  it.each([
    { decl: resnet18, name: "resnet18", channels: 512 },
    { decl: resnet50, name: "resnet50", channels: 2048 },
  ])("$name: the loaded backbone is torchvision's in eval and train mode, and the encoder records the file", ({ decl, name, channels }) => {
    const { store, encoder } = build(decl, `${name}.pth`);
    const io = readSafetensors(join(dir, `${name}.io.safetensors`)).tensors;
    const images = tf.tensor4d(io["input.images"]!.data as Float32Array, [2, 64, 64, 3]);
    const evalOut = encoder.backbone(images, evalFc);
    expect(evalOut.shape).toEqual([2, 2, 2, channels]);
    expect(relativeError(evalOut.dataSync(), io["output.eval"]!.data as Float32Array)).toBeLessThan(TOLERANCE.eval);
    const trainOut = encoder.backbone(images, trainFc());
    expect(relativeError(trainOut.dataSync(), io["output.train"]!.data as Float32Array)).toBeLessThan(TOLERANCE.train);
    for (const stat of ["running_mean", "running_var"]) {
      const ours = store.variables.get(`image.backbone.bn1.${stat}`)!.dataSync();
      expect(relativeError(ours, io[`output.bn1.${stat}`]!.data as Float32Array)).toBeLessThan(TOLERANCE.eval);
    }
    expect(encoder.pretrained).toMatchObject({ param: "weights", file: join(dir, `${name}.pth`), loaded: expect.stringMatching(/^image\.backbone: \d+ tensors \(torch zip\)$/) });
    expect(encoder.pretrained!.sha256).toMatch(/^[0-9a-f]{64}$/);
    tf.dispose([images, evalOut, trainOut]);
    store.dispose();
  });

  it("refuses a file of another architecture (resnet18's weights for resnet50), naming the keys", () => {
    let err: unknown;
    try {
      build(resnet50, "resnet18.pth");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PretrainedFileError);
    expect((err as Error).message).toMatch(
      /^weights: .*resnet18\.pth: does not fit image\.backbone with torchvision names: \d+ missing \(e\.g\. layer1\.0\.conv3\.weight, .*\), \d+ of another shape or type \(layer1\.0\.conv1\.weight: file \[64,64,3,3\], expected \[64,64,1,1\]/,
    );
  });
});
