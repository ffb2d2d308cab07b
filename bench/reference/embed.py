"""Inference speed of the PyTorch reference: what `sdfn index` and `sdfn serve` do with a network.

  /usr/bin/python3 bench/reference/embed.py --recipe R.json --image-size S [--images 256] [--batch 128]
      [--text-length 10] [--queries 20] [--threads 0]

R: {"recipe": resolved recipe, "vocab_size": V}. Eval mode, no grad, float32, random inputs (NHWC
images as sdfn feeds them). Prints one JSON line: target_images_per_s (the target encoder over
--images images in batches of --batch, after one warm-up batch) and query_p50_ms / query_p99_ms
(the query encoder on one reference and one text of --text-length words, --queries times).
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import SDFN  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", required=True)
    ap.add_argument("--image-size", type=int, required=True)
    ap.add_argument("--images", type=int, default=256)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--text-length", type=int, default=10)
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    spec = json.load(open(a.recipe))
    torch.manual_seed(0)
    model = SDFN(spec["recipe"], spec["vocab_size"]).eval()
    s = a.image_size
    images = torch.randn(a.batch, s, s, 3)
    with torch.no_grad():
        model.encode_target(images)  # warm-up
        start = time.perf_counter()
        done = 0
        while done < a.images:
            n = min(a.batch, a.images - done)
            model.encode_target(images[:n])
            done += n
        target_s = time.perf_counter() - start
        reference = torch.randn(1, s, s, 3)
        tokens = torch.randint(2, spec["vocab_size"], (1, a.text_length))
        mask = torch.ones(1, a.text_length)
        model.encode_query(reference, tokens, mask)  # warm-up
        times = []
        for _ in range(a.queries):
            start = time.perf_counter()
            model.encode_query(reference, tokens, mask)
            times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    print(json.dumps({
        "name": "pytorch",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "target_images_per_s": a.images / target_s,
        "query_p50_ms": times[len(times) // 2],
        "query_p99_ms": times[min(len(times) - 1, int(0.99 * len(times)))],
    }))


if __name__ == "__main__":
    main()
