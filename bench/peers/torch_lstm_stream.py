#!/usr/bin/python3
"""The peer of examples/stateful_streaming.cpp: PyTorch's nn.LSTM(40, 64) fed one frame at a
time (batch 1, sequence length 1, the (h, c) states carried between calls), on one thread,
under no_grad. Prints frames/s.

    /usr/bin/python3 bench/peers/torch_lstm_stream.py [--seconds S]
"""
import argparse
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=2.0)
    args = p.parse_args()
    torch.set_num_threads(1)
    lstm = torch.nn.LSTM(40, 64, batch_first=True).eval()
    x = torch.zeros(1, 1, 40)
    state = None
    n = 0
    with torch.no_grad():
        start = time.perf_counter()
        elapsed = 0.0
        while elapsed < args.seconds:
            for _ in range(1000):
                x[0, 0, 0] = (n % 7) * 0.1
                _, state = lstm(x, state)
                n += 1
            elapsed = time.perf_counter() - start
    print(f"pytorch {torch.__version__} nn.LSTM streaming: {int(n / elapsed)} frames/s (one thread)")


if __name__ == "__main__":
    main()
