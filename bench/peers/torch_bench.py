#!/usr/bin/python3
"""PyTorch inference timing for the peer benchmark (eval mode, inference_mode, convs in
channels_last). Warms up, then runs for --seconds and prints the median per batch:
   torch w1 1 ms/batch: 0.123
   /usr/bin/python3 bench/peers/torch_bench.py [--seconds 5] [--threads 2] [NAME BATCH ...]
With no NAME BATCH pairs it runs every workload (w1 1, w1 256, vgg16 1, seed_head 64).
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

WORKLOADS = [("w1", 1), ("w1", 256), ("vgg16", 1), ("seed_head", 64)]


def time_ms(fn, seconds, warmup):
    """Median ms of fn() after `warmup` s (at least 3 calls), over at least `seconds` s (5 calls)."""
    t_end, n = time.perf_counter() + warmup, 0
    while n < 3 or time.perf_counter() < t_end:
        fn()
        n += 1
    times, t_end = [], time.perf_counter() + seconds
    while len(times) < 5 or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--warmup", type=float, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("work", nargs="*", help="NAME BATCH pairs")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    work = [(a.work[i], int(a.work[i + 1])) for i in range(0, len(a.work), 2)] or WORKLOADS
    for name, batch in work:
        model = models.build(name)
        x = torch.rand(batch, *models.INPUTS[name])
        if name != "seed_head":  # convnets: NHWC in memory, as oneDNN likes it
            model = model.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            ms = time_ms(lambda: model(x), a.seconds, a.warmup)
        print(f"torch {name} {batch} ms/batch: {ms:.4f}", flush=True)


if __name__ == "__main__":
    main()
