// CLIP's weights from a state dict in OpenAI's / open_clip's names (safetensors or torch.save,
// read by src/io/state-dict.ts): the image tower's tensors are `visual.<name>`, the text tower's
// are top-level (`token_embedding.weight`, `transformer.resblocks.N.…`, `ln_final.*`,
// `text_projection`). sdfn keeps each under its encoder's backbone scope with the same <name>
// (`image.backbone.conv1.weight`, `text.backbone.token_embedding.weight`). Layouts: the dense
// weights PyTorch applies as x·Wᵀ (attention in/out projections, MLP c_fc/c_proj, the ResNets'
// attention-pooling projections) are stored transposed, [in, out]; convolutions [out, in, kh, kw] →
// [kh, kw, in, out]; everything else as is (batch-norm statistics too)
// (CLIP applies `proj` and `text_projection` as x·W). docs/weights.md.
import * as tf from "@tensorflow/tfjs";
import { readStateDict, StateDictError } from "../io/state-dict.js";
import type { SafeTensor } from "../io/safetensors.js";
import type { ParamScope } from "../nn/scope.js";
import type { PretrainedSource } from "../registry/kinds.js";
import { PretrainedFileError } from "./pretrained.js";
import { assignAllOrNothing, variablesUnder } from "./torch-weights.js";

/** Which of CLIP's towers a scope holds: its tensors' prefix in the file. */
export type ClipTower = "visual" | "text";
const FILE_PREFIX: Record<ClipTower, string> = { visual: "visual.", text: "" };

/** Dense weights applied as x·Wᵀ in PyTorch: stored [in, out] here (the transformers' and the ResNets' attention pooling). */
const TRANSPOSED = /(^|\.)(attn\.in_proj_weight|attn\.out_proj\.weight|mlp\.c_fc\.weight|mlp\.c_proj\.weight|attnpool\.[qkvc]_proj\.weight)$/;

type Layout = "transposed" | "conv" | "same";
/** Convolutions are the 4-D tensors (the ViT's patch embedding, the ResNets' convs). */
const layoutOf = (name: string, rank: number): Layout => (TRANSPOSED.test(name) ? "transposed" : rank === 4 ? "conv" : "same");

/** Our shape of a tensor stored as `theirs` in the file (and back). */
function theirShape(layout: Layout, ours: readonly number[]): number[] {
  if (layout === "transposed") return [ours[1]!, ours[0]!];
  if (layout === "conv") return [ours[3]!, ours[2]!, ours[0]!, ours[1]!];
  return [...ours];
}

function fromTorch(layout: Layout, t: SafeTensor): tf.Tensor {
  return tf.tidy(() => {
    const x = tf.tensor(t.data as Float32Array, t.shape, "float32");
    return layout === "transposed" ? x.transpose() : layout === "conv" ? x.transpose([2, 3, 1, 0]) : x;
  });
}

/** How a TorchScript archive (OpenAI's own ViT-B-32.pt) becomes a file sdfn reads. */
const JIT_HINT =
  "OpenAI's own download (ViT-B-32.pt) is a TorchScript archive, not a state dict: convert it once with " +
  `python3 -c "import torch; torch.save(torch.jit.load('ViT-B-32.pt', map_location='cpu').state_dict(), 'clip-vit-b32.pt')", ` +
  "or use open_clip's copy of OpenAI's weights (open_clip_model.safetensors; docs/weights.md)";

/**
 * Assigns every variable under `scope` (a CLIP tower's backbone) from `file` as the `param` of its
 * encoder. Throws PretrainedFileError listing missing or mis-shaped tensors; the file's other
 * tensors (the other tower, logit_scale) are ignored.
 */
export function loadClipWeights(scope: ParamScope, file: string, tower: ClipTower, param = "weights"): PretrainedSource {
  let read;
  try {
    read = readStateDict(file);
  } catch (err) {
    if (err instanceof StateDictError) throw new PretrainedFileError(param, `${err.message}; ${JIT_HINT}`);
    throw err;
  }
  const { tensors, format, sha256, bytes } = read;
  const prefix = FILE_PREFIX[tower];
  const result = assignAllOrNothing(scope, tensors, (name, variable) => {
    const layout = layoutOf(name, variable.rank);
    return { key: prefix + name, shape: theirShape(layout, variable.shape), fromFile: (t) => fromTorch(layout, t) };
  });
  if ("problems" in result) {
    throw new PretrainedFileError(
      param,
      `${file}: does not fit CLIP's ${tower === "visual" ? "image" : "text"} tower ${scope.path}: ${result.problems}; ` +
        `check the encoder type and its width, layers, patch and image_resolution (or context_length and vocab_size) against the file (docs/weights.md)`,
    );
  }
  return { param, file, sha256, bytes, loaded: `${scope.path}: ${result.assigned} tensors (${format})` };
}

/** The variables under `scope` in OpenAI's names and layouts (for tests and the PyTorch reference). */
export function exportClipWeights(scope: ParamScope, tower: ClipTower): Record<string, SafeTensor> {
  const out: Record<string, SafeTensor> = {};
  for (const [name, v] of variablesUnder(scope)) {
    const layout = layoutOf(name, v.rank);
    const t = tf.tidy(() => (layout === "transposed" ? v.transpose() : layout === "conv" ? v.transpose([3, 2, 0, 1]) : v.clone()));
    out[FILE_PREFIX[tower] + name] = { dtype: "F32", shape: t.shape, data: t.dataSync() as Float32Array };
    t.dispose();
  }
  return out;
}
