"""The reference checked against itself, without sdfn: export its own weights in
sdfn's names and layouts, write a batch with its own outputs, run check.py's
comparison (must pass), then perturb one weight (must fail, naming outputs).

  /usr/bin/python3 bench/reference/selftest.py RECIPE_JSON OUT_DIR
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check import run  # noqa: E402
from model import SDFN  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402
from weights import export_sdfn_weights  # noqa: E402


def main(recipe_path, out_dir):
    torch.manual_seed(0)
    spec = json.load(open(recipe_path))
    model = SDFN(spec["recipe"], spec["vocab_size"], spec.get("image_channels")).eval()
    size, b, t = spec.get("image_size", 32), 3, 6
    channels = spec.get("image_channels") or 3
    inputs = {
        "reference": torch.randn(b, size, size, channels),
        "target": torch.randn(b, size, size, channels),
        "tokens": torch.randint(1, spec["vocab_size"], (b, t), dtype=torch.int32),
        "mask": (torch.arange(t)[None, :] < torch.tensor([[t], [3], [1]])).float(),
    }
    with torch.no_grad():
        out = model(inputs)
    batch = {f"input.{k}": v for k, v in inputs.items()}
    batch.update({f"output.{k}": out[k] for k in ("query", "target", "tokens", "last_inputs")})
    batch.update({f"output.paths.{l}": p for l, p in enumerate(out["paths"])})
    batch.update({f"output.loss.{k}": v.reshape(()) for k, v in out["loss"].items()})
    batch["output.loss.total"] = out["total"].reshape(())
    weights = export_sdfn_weights(model)
    os.makedirs(out_dir, exist_ok=True)
    w, bt = os.path.join(out_dir, "weights.safetensors"), os.path.join(out_dir, "batch.safetensors")
    write_safetensors(w, weights, {"format": "pt"})
    write_safetensors(bt, batch)
    if run(w, bt, recipe_path, 1e-4, verbose=False):
        print("selftest: the reference disagrees with its own exported weights")
        return 1
    name = next(k for k in weights if k.endswith("proj.weight"))
    weights[name] = weights[name] * 1.01
    write_safetensors(w, weights)
    failed = run(w, bt, recipe_path, 1e-4, verbose=False)
    if not failed:
        print(f"selftest: perturbing {name} went unnoticed")
        return 1
    print(f"selftest: round trip ok; perturbing {name} flagged {failed} outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
