"""Speed of the PyTorch reference on the inputs sdfn's bench wrote.

  /usr/bin/python3 bench/reference/bench.py --recipe R.json --batch B.safetensors [--steps 3] [--device cpu|cuda]
      [--precision fp32|bf16]

R: {"recipe": resolved recipe, "vocab_size": V}; B: input.reference, input.target,
input.tokens, input.mask. Prints one JSON line: step_ms (forward + backward +
Adam, training mode; --precision bf16: forward under torch.autocast with
bfloat16, fp32 master weights and optimizer), samples_per_s, eval_queries_per_s (eval mode, no grad:
encode the query and its gallery image and score them), peak_rss_mib (the resident set's peak over
the timed training steps, as sdfn's bench measures its rows: /proc/self/status VmHWM, reset through
/proc/self/clear_refs after the model is built), process_peak_rss_mib (the whole process's).
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import SDFN  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402


def timed(fn, device, repeats):
    """Mean seconds of fn() over `repeats` runs after one warm-up run."""
    fn()
    sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    sync(device)
    return (time.perf_counter() - start) / repeats


_PEAK_BEFORE_RESET = [0.0]  # the process's peak before the last reset (clear_refs resets getrusage's too)


def reset_peak_rss():
    """Starts a new high-water mark of the resident set (Linux); elsewhere the whole run's peak counts."""
    peak = peak_rss_mib()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        _PEAK_BEFORE_RESET[0] = max(_PEAK_BEFORE_RESET[0], peak)
    except OSError:
        pass


def peak_rss_mib():
    """The resident set's high-water mark since the last reset (MiB)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0: PyTorch's default)")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device("cuda" if a.device == "cuda" or (a.device == "auto" and torch.cuda.is_available()) else "cpu")
    spec = json.load(open(a.recipe))
    tensors, _ = read_safetensors(a.batch)
    batch = {k[len("input.") :]: v.to(device) for k, v in tensors.items() if k.startswith("input.")}
    torch.manual_seed(0)
    model = SDFN(spec["recipe"], int(spec["vocab_size"]), spec.get("image_channels")).to(device)
    opt = spec["recipe"].get("training", {}).get("optimizer", {})
    optimizer = torch.optim.Adam(
        model.parameters(), lr=float(opt.get("lr", 1e-4)), weight_decay=float(opt.get("weight_decay", 0.0))
    )
    size = batch["reference"].shape[0]

    with torch.no_grad():  # a cached teacher, as from epoch 2 on: the distillation cost is paid every step
        teacher = [p.detach() for p in model.eval().encode_query(batch["reference"], batch["tokens"], batch["mask"])["paths"]]

    autocast = lambda: torch.autocast(device.type, dtype=torch.bfloat16, enabled=a.precision == "bf16")  # noqa: E731

    def step():
        model.train()
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            total = model(batch, teacher)["total"]
        total.backward()
        optimizer.step()

    def evaluate():
        model.eval()
        with torch.no_grad(), autocast():
            q = model.encode_query(batch["reference"], batch["tokens"], batch["mask"])["query"]
            t = model.encode_target(batch["target"])
            (torch.nn.functional.normalize(q, dim=-1) @ torch.nn.functional.normalize(t, dim=-1).t()).max()

    reset_peak_rss()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()  # the steps' peak, as sdfn's rows measure theirs
    step_s = timed(step, device, a.steps)
    peak_device_mib = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None
    step_peak_rss = peak_rss_mib()
    eval_s = timed(evaluate, device, a.steps)
    result = {
        "name": "pytorch",
        "device": f"{device.type}" + (f" ({torch.cuda.get_device_name()})" if device.type == "cuda" else f" ({torch.get_num_threads()} threads)"),
        "version": torch.__version__,
        "precision": a.precision,
        "step_ms": step_s * 1e3,
        "samples_per_s": size / step_s,
        "eval_queries_per_s": size / eval_s,
        "peak_rss_mib": step_peak_rss,
        "process_peak_rss_mib": max(_PEAK_BEFORE_RESET[0], peak_rss_mib()),
        "peak_device_mib": peak_device_mib,
        # counted as sdfn stores them: its recurrent cells have no separate bias_hh
        "parameters": sum(p.numel() for n, p in model.named_parameters() if "bias_hh" not in n),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
