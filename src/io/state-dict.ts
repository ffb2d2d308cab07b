// A state dict (tensor name → tensor) from a weights file in any format sdfn reads: PyTorch's
// `torch.save` files (.pth/.pt/.bin, zip or legacy; torchvision, timm, Hugging Face) and
// safetensors (timm, Hugging Face). Reads the file once and gives its SHA-256 with the tensors,
// so a run can record exactly which file it started from. Name mappings (ResNet, CLIP, …) are
// the encoders' business: this reader knows formats, not models.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseSafetensors, type SafeTensor } from "./safetensors.js";
import { StateDictError } from "./state-dict-error.js";
import { readTorchFile, torchFormat, type TorchFormat } from "./torch-file.js";

export { StateDictError } from "./state-dict-error.js";

export interface StateDictFile {
  /** Tensor name → tensor, in the file's order (float dtypes as float32, integers as int32). */
  tensors: Map<string, SafeTensor>;
  format: TorchFormat | "safetensors";
  bytes: number;
  /** Hex SHA-256 of the whole file. */
  sha256: string;
}

/** Keys under which training checkpoints keep the model's state dict (timm, DeiT, Lightning, …). */
const NESTED_KEYS = ["state_dict", "model", "model_state_dict", "module"];

/** Reads `file` as a state dict. Throws StateDictError naming the file and the key or byte offset at fault. */
export function readStateDict(file: string): StateDictFile {
  const buf = readFileSync(file);
  const sha256 = createHash("sha256").update(buf).digest("hex");
  const format = torchFormat(buf) ?? (looksLikeSafetensors(buf) ? "safetensors" : undefined);
  if (!format) {
    throw new StateDictError(
      `${file}: neither a PyTorch file (torch.save: a zip, or the legacy pickle format) nor safetensors ` +
        `(first bytes ${buf.subarray(0, 8).toString("hex") || "none: the file is empty"})`,
    );
  }
  if (format === "safetensors") {
    let tensors: Record<string, SafeTensor>;
    try {
      tensors = parseSafetensors(buf, file).tensors;
    } catch (err) {
      throw new StateDictError((err as Error).message);
    }
    return { tensors: new Map(Object.entries(tensors)), format, bytes: buf.length, sha256 };
  }
  return { tensors: stateDictOf(readTorchFile(buf, file), file), format, bytes: buf.length, sha256 };
}

/** safetensors: an 8-byte little-endian header length within the file, then a JSON object. */
function looksLikeSafetensors(buf: Buffer): boolean {
  return buf.length >= 10 && Number(buf.readBigUInt64LE(0)) <= buf.length - 8 && buf[8] === 0x7b; // "{"
}

/** The pickled object as a state dict: a mapping of names to tensors, or one nested under a checkpoint's usual key. */
function stateDictOf(root: unknown, file: string): Map<string, SafeTensor> {
  if (!(root instanceof Map)) {
    throw new StateDictError(`${file}: the pickle holds ${describe(root)}, not a state dict (a mapping of names to tensors); save model.state_dict()`);
  }
  const notTensor = [...root].find(([, v]) => !isTensor(v));
  if (!notTensor && root.size > 0) return root as Map<string, SafeTensor>;
  const nested = NESTED_KEYS.map((k) => root.get(k)).find((v) => v instanceof Map && v.size > 0 && [...v.values()].every(isTensor));
  if (nested) return nested as Map<string, SafeTensor>;
  const keys = [...root.keys()].slice(0, 6).map(String).join(", ");
  throw new StateDictError(
    root.size === 0
      ? `${file}: the pickle holds an empty mapping, not a state dict`
      : `${file}: not a state dict: "${String(notTensor![0])}" holds ${describe(notTensor![1])}, not a tensor (keys: ${keys}${root.size > 6 ? ", …" : ""}), ` +
          `and none of ${NESTED_KEYS.join(", ")} holds one; save model.state_dict()`,
  );
}

const isTensor = (v: unknown): v is SafeTensor => typeof v === "object" && v !== null && "dtype" in v && "shape" in v && "data" in v;

function describe(v: unknown): string {
  if (v instanceof Map) return `a mapping of ${v.size} entries`;
  if (Array.isArray(v)) return `a list or tuple of ${v.length}`;
  return v === null ? "None" : `a ${typeof v}`;
}
