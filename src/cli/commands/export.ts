// `sdfn export RUN_DIR --format onnx --out DIR`: the run's encoders as ONNX models (src/export).
import { resolve } from "node:path";
import { BACKEND_OPTION, defineCommand, UsageError } from "../command.js";
import { RUN_OPTIONS } from "./open-run.js";

export const command = defineCommand({
  name: "export",
  summary: "export a run's query and target encoders as ONNX models",
  usage: "RUN_DIR --format onnx --out DIR [options]",
  description:
    "Writes DIR/target.onnx (image → t), DIR/query.onnx (reference image, token ids, mask → q and the routing path\n" +
    "per fusion layer), both opset 17 with a dynamic batch and ending in the L2 normalisation sdfn ranks with, and\n" +
    "DIR/preprocess.json: image size, resize and crop, mean/std, the vocabulary, the tokenizer and the text length\n" +
    "(token ids right-padded to it with a mask). Any ONNX runtime then embeds as sdfn does (onnxruntime-node is checked\n" +
    "against sdfn to 1e-4 by the tests). A module whose kernels have no ONNX mapping is refused naming it (exit 2).",
  options: {
    format: { type: "string", arg: "onnx", help: "the format (onnx)" },
    out: { type: "string", arg: "DIR", help: "the directory to write (replaced whole; it must be new, empty or an earlier export)" },
    checkpoint: RUN_OPTIONS.checkpoint,
    recipe: { ...RUN_OPTIONS.recipe, help: "load this recipe instead of RUN_DIR/recipe.resolved.yaml (a run whose plugins live beside its recipe)" },
    backend: { ...BACKEND_OPTION, help: "tfjs backend the forward is traced on (default: the recipe's)" },
    "no-plugins": RUN_OPTIONS["no-plugins"],
  },
  notes: "Runs plugin code: the run's plugins are imported once its recipe validates (--no-plugins runs none).",
  examples: ["sdfn export runs/quickstart-20260101-120000 --format onnx --out quickstart.onnx"],
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError(`export: expected one RUN_DIR, got ${positionals.length} (see sdfn export --help)`);
    if (values.format !== "onnx") throw new UsageError(`export: --format ${values.format ?? "(none)"}: the formats are: onnx`);
    if (!values.out) throw new UsageError("export: --out DIR is required");
    const tag = values.checkpoint;
    if (tag !== undefined && tag !== "best" && tag !== "last") throw new UsageError(`--checkpoint ${tag}: expected best or last`);
    const { openRun } = await import("../../infer/model.js");
    const { exportOnnx } = await import("../../export/onnx.js");
    const { readFileSync } = await import("node:fs");
    const version = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
    const model = await openRun(positionals[0]!, { checkpoint: tag, backend: values.backend, noPlugins: values["no-plugins"], recipe: values.recipe, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
    try {
      const files = await exportOnnx(model, values.out, version);
      process.stdout.write(`${resolve(values.out)}: ${files.map((f) => f.split("/").pop()).join(", ")} (opset 17, dynamic batch; text length ${model.maxWords})\n`);
      return 0;
    } finally {
      model.close();
    }
  },
});
