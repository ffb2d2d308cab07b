"""CLIP encoder parity, the reference's half: makes a seeded random CLIP in OpenAI's names (clip.py),
writes its state dict as sdfn's users would have it (DIR/clip.safetensors and a torch.save zip,
DIR/clip.pt, both float32, with the whole model's keys: visual.*, the text tower's, logit_scale),
and the reference's embeddings of DIR/inputs.safetensors in float64 (DIR/outputs.safetensors):

  image_embedding (B, e)    the class token through ln_post and proj (CLIP's image embedding)
  image_tokens    (B, N, e) the patch tokens through the same
  text_embedding  (B, e)    the feature at the highest id, <|endoftext|> (CLIP's text embedding)
  text_features   (B, T, e) every position's feature

  python3 clip_check.py --spec SPEC.json --dir DIR
SPEC: {"seed": S, "visual": {image_resolution, patch, width, layers, heads, embed_dim} (a ViT; with
       layers a list of four stage depths and no patch, CLIP's modified ResNet),
       "text": {vocab_size, context_length, width, layers, heads, embed_dim}}.
Inputs: images (B, H, W, 3) float32 (NHWC, as sdfn's), tokens (B, T) int32 right-padded with 0.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clip import text_from, vision_from  # noqa: E402
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402


def perturb(model, gen):
    """Fresh norms (1, 0), zero biases and batch-norm statistics (0, 1) test little: give every vector
    seeded values (running variances stay positive)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and name not in ("class_embedding",):
                p.add_(0.2 * torch.randn(p.shape, generator=gen))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.add_(0.2 * torch.randn(b.shape, generator=gen))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=gen))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--dir", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    with open(a.spec) as f:
        spec = json.load(f)
    torch.manual_seed(int(spec.get("seed", 0)))
    gen = torch.Generator().manual_seed(int(spec.get("seed", 0)) + 1)
    visual, text = vision_from(spec["visual"]), text_from(spec["text"])
    perturb(visual, gen)
    perturb(text, gen)
    state = {f"visual.{k}": v for k, v in visual.state_dict().items()}
    state.update(text.state_dict())
    state["logit_scale"] = torch.tensor(4.6052)
    state = {k: (v.detach().float() if v.is_floating_point() else v.detach()).contiguous() for k, v in state.items()}  # num_batches_tracked stays int64
    write_safetensors(os.path.join(a.dir, "clip.safetensors"), state)
    torch.save(state, os.path.join(a.dir, "clip.pt"))

    inputs, _ = read_safetensors(os.path.join(a.dir, "inputs.safetensors"))
    visual, text = visual.double().eval(), text.double().eval()
    with torch.no_grad():
        y = visual(inputs["images"].double().permute(0, 3, 1, 2))
        tokens = inputs["tokens"].long()
        out = {
            "image_embedding": y[:, 0],
            "image_tokens": y[:, 1:],
            "text_embedding": text.encode_text(tokens),
            "text_features": text(tokens),
        }
    write_safetensors(os.path.join(a.dir, "outputs.safetensors"), {k: v.float().contiguous() for k, v in out.items()})
    print(f"clip_check: {len(state)} tensors written; outputs {', '.join(f'{k} {tuple(v.shape)}' for k, v in out.items())}")


if __name__ == "__main__":
    main()
