// Pretrained encoders in a run: a missing weights or GloVe file stops `sdfn build` before any run
// directory exists (exit 2, at the recipe key, with the path looked at and how to obtain it);
// present files are read and recorded (path, SHA-256) in meta.json, summary.json and the report;
// `--set KEY=null` trains from scratch on purpose; a resume reads no pretrained file.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resnet18 } from "../../src/encoders/resnet.js";
import { exportTorchWeights } from "../../src/encoders/torch-weights.js";
import { writeSafetensors } from "../../src/io/safetensors.js";
import { ParamStore } from "../../src/nn/scope.js";
import { sdfn, ROOT } from "../support/cli.js";

tf.env().set("IS_TEST", true);

const scratch = mkdtempSync(join(tmpdir(), "sdfn-pretrained-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Record<string, any>;

/** The tiny trainer recipe with a ResNet-18 image encoder and GloVe, naming `weights` and `glove`. */
function recipe(name: string, weights: string, glove: string): string {
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `extends: ${join(ROOT, "test/train/fixtures/tiny.yaml")}`,
      `training: { epochs: 1 }`,
      `encoders:`,
      `  image: { type: resnet18, dim: 8, freeze: all, weights: ${weights} }   # frozen: a quicker step`,
      `  text: { type: lstm, hidden: 8, embedding_dim: 4, glove: ${glove} }`,
      ``,
    ].join("\n"),
  );
  return file;
}

describe("pretrained files in sdfn build", () => {
  const weights = join(scratch, "resnet18.safetensors");
  const glove = join(scratch, "glove.4d.txt");
  beforeAll(() => {
    const store = new ParamStore(11);
    resnet18.build(resnet18.params.parse({ dim: 8 }), { dim: 8, scope: store.root().child("image"), filesDir: "." });
    writeSafetensors(weights, exportTorchWeights(store.root().child("image.backbone")));
    store.dispose();
    // words of the shapes captions ("make the red circle blue", …) and one the vocabulary lacks
    writeFileSync(glove, ["red 0.1 0.2 0.3 0.4", "blue -0.1 0.5 0.2 0.0", "circle 1 2 3 4", "zebra 9 9 9 9", ""].join("\n"));
  });

  it("a missing file: exit 2 at its recipe key, the path looked at and the steps to obtain it; no run directory", async () => {
    const missingWeights = join(scratch, "nowhere", "resnet18-f37072fd.pth");
    const missingGlove = join(scratch, "nowhere", "glove.840B.300d.txt");
    const file = recipe("missing", missingWeights, missingGlove);
    const out = join(scratch, "missing-run");
    const r = await sdfn("build", file, "--out", out, "--log", "plain", "--backend", "cpu");
    expect(r.code).toBe(2);
    const [image, text] = r.err.trimEnd().split("\n");
    const lines = readFileSync(file, "utf8").split("\n");
    const col = (line: number, value: string) => `${line}:${lines[line - 1]!.indexOf(value) + 1}`;
    expect(image).toBe(
      `${file}:${col(4, missingWeights)}: error: encoders.image.weights: no file at ${missingWeights} (paths are relative to the working directory); ` +
        `download torchvision's ImageNet resnet18 weights (IMAGENET1K_V1) on a machine with internet access: ` +
        `curl -L --create-dirs -o ${missingWeights} https://download.pytorch.org/models/resnet18-f37072fd.pth ` +
        `(or python3 -c "import torchvision; torchvision.models.resnet18(weights='IMAGENET1K_V1')" and copy ~/.cache/torch/hub/checkpoints/resnet18-f37072fd.pth); ` +
        `the file is read as it is (docs/weights.md); or, to train from scratch on purpose, --set encoders.image.weights=null`,
    );
    expect(text).toBe(
      `${file}:${col(5, missingGlove)}: error: encoders.text.glove: no file at ${missingGlove} (paths are relative to the working directory); ` +
        `download GloVe 840B.300d (a 2.0 GB zip holding the 5.6 GB text file) on a machine with internet access: ` +
        `mkdir -p ${join(scratch, "nowhere")} && curl -L -o glove.840B.300d.zip https://nlp.stanford.edu/data/glove.840B.300d.zip && ` +
        `unzip -p glove.840B.300d.zip glove.840B.300d.txt > ${missingGlove}; or, to train from scratch on purpose, --set encoders.text.glove=null`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it("build --dry-run lists the files, found or missing, without reading them (exit 0)", async () => {
    const missingWeights = join(scratch, "nowhere", "resnet18-f37072fd.pth");
    const r = await sdfn("build", recipe("dry", missingWeights, glove), "--dry-run", "--backend", "cpu");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`pretrained: encoders.image.weights = ${missingWeights} (missing: build stops here; download torchvision's ImageNet resnet18 weights`);
    expect(r.out).toContain(`pretrained: encoders.text.glove = ${glove} (${readFileSync(glove).length} bytes)\n`);
  });

  it("a file that is not weights: exit 2 naming the key, no run directory", async () => {
    const file = recipe("bad", glove, glove); // a text file as the ResNet weights
    const out = join(scratch, "bad-run");
    const r = await sdfn("build", file, "--out", out, "--log", "plain", "--backend", "cpu");
    expect(r.code).toBe(2);
    expect(r.err).toContain(`error: encoders.image.weights: ${glove}: neither a PyTorch file (torch.save: a zip, or the legacy pickle format) nor safetensors`);
    expect(existsSync(out)).toBe(false);
  });

  it("present files are recorded with their SHA-256 in meta.json, summary.json and report.html; a resume reads neither", async () => {
    const file = recipe("present", weights, glove);
    const out = join(scratch, "present-run");
    const r = await sdfn("build", file, "--out", out, "--log", "plain", "--backend", "cpu");
    expect(r.code, r.err).toBe(0);
    const summary = readJson(join(out, "summary.json"));
    expect(summary.pretrained).toEqual({
      "encoders.image": { param: "weights", file: weights, sha256: sha256(weights), bytes: readFileSync(weights).length, loaded: "image.backbone: 100 tensors (safetensors)" },
      "encoders.text": { param: "glove", file: glove, sha256: sha256(glove), bytes: readFileSync(glove).length, loaded: expect.stringMatching(/^text\.embedding: 3 of \d+ words$/) },
    });
    expect(readJson(join(out, "checkpoints", "last", "meta.json")).pretrained).toEqual(summary.pretrained);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain(`encoders.image: pretrained from <code>${weights}</code> (sha256 <code>${sha256(weights)}</code>`);
    expect(html).toContain(`encoders.text: pretrained from <code>${glove}</code>`);

    // The files gone, the run still resumes (its checkpoint holds every weight) and keeps the record.
    const moved = `${weights}.moved`;
    writeFileSync(moved, readFileSync(weights));
    rmSync(weights);
    try {
      const again = await sdfn("build", "--resume", out, "--log", "plain", "--backend", "cpu");
      expect(again.code, again.err).toBe(0);
      expect(readJson(join(out, "summary.json")).pretrained).toEqual(summary.pretrained);
    } finally {
      writeFileSync(weights, readFileSync(moved));
    }
  });

  it("--set KEY=null trains that encoder from scratch on purpose, and the summary says so", async () => {
    const file = recipe("scratch", join(scratch, "nowhere.pth"), glove);
    const out = join(scratch, "scratch-run");
    const r = await sdfn("build", file, "--out", out, "--log", "plain", "--backend", "cpu", "--set", "encoders.image.weights=null");
    expect(r.code, r.err).toBe(0);
    const { pretrained } = readJson(join(out, "summary.json"));
    expect(pretrained["encoders.image"]).toBeNull();
    expect(pretrained["encoders.text"]).toMatchObject({ param: "glove", sha256: sha256(glove) });
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain("encoders.image: from scratch (random init)");
  });
});
