"""torch.profiler's per-op table of one reference training step (bench/replay-profile.ts --reference).

  /usr/bin/python3 bench/reference/profile.py DIR     (DIR: recipe.json and inputs.safetensors as bench.py reads them)

The step is bench.py's (forward with a cached teacher, backward, Adam), run twice to warm up,
then once under the profiler; prints the step time, the intra-op threads and self CPU per op.
"""
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import SDFN  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402


def main(d):
    spec = json.load(open(os.path.join(d, "recipe.json")))
    tensors, _ = read_safetensors(os.path.join(d, "inputs.safetensors"))
    batch = {k[len("input.") :]: v for k, v in tensors.items() if k.startswith("input.")}
    torch.manual_seed(0)
    model = SDFN(spec["recipe"], int(spec["vocab_size"]), spec.get("image_channels"))
    opt = spec["recipe"].get("training", {}).get("optimizer", {})
    optimizer = torch.optim.Adam(model.parameters(), lr=float(opt.get("lr", 1e-4)), weight_decay=float(opt.get("weight_decay", 0.0)))
    with torch.no_grad():
        teacher = [p.detach() for p in model.eval().encode_query(batch["reference"], batch["tokens"], batch["mask"])["paths"]]

    def step():
        model.train()
        optimizer.zero_grad(set_to_none=True)
        model(batch, teacher)["total"].backward()
        optimizer.step()

    step()
    start = time.perf_counter()
    step()
    print(f"pytorch step {1e3 * (time.perf_counter() - start):.0f} ms, {torch.get_num_threads()} threads")
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main(sys.argv[1])
