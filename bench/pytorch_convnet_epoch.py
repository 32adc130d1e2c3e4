#!/usr/bin/python3
"""The peer for issue 4's epoch time: one epoch of the keras.io convnet on Fashion-MNIST in
PyTorch (Debian's python3-torch), batch 128, Adam, the same 54,000 training images that
Keras's validation_split=0.1 leaves, shuffled. Prints seconds per epoch (best of --repeat).
   /usr/bin/python3 bench/pytorch_convnet_epoch.py [--repeat 2] [--threads N]
"""
import argparse, gzip, time
import numpy as np
import torch
from torch import nn

p = argparse.ArgumentParser()
p.add_argument("--repeat", type=int, default=2)
p.add_argument("--threads", type=int, default=0)
a = p.parse_args()
if a.threads:
    torch.set_num_threads(a.threads)

d = "/usr/share/datasets/fashion-mnist/"
x = np.frombuffer(gzip.open(d + "train-images-idx3-ubyte.gz").read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
y = np.frombuffer(gzip.open(d + "train-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
x = torch.tensor(x[:54000], dtype=torch.float32) / 255.0
y = torch.tensor(y[:54000], dtype=torch.long)

torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
loss_fn = nn.CrossEntropyLoss()

best = float("inf")
for r in range(a.repeat):
    t0 = time.perf_counter()
    perm = torch.randperm(len(x))
    correct = 0
    for i in range(0, len(x), 128):
        idx = perm[i:i + 128]
        xb, yb = x[idx], y[idx]
        opt.zero_grad()
        out = model(xb)
        loss = loss_fn(out, yb)
        loss.backward()
        opt.step()
        correct += (out.argmax(1) == yb).sum().item()
    t = time.perf_counter() - t0
    best = min(best, t)
    print(f"epoch {r + 1}: {t:.2f} s, train accuracy {correct / len(x):.4f}")
print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads: best {best:.2f} s/epoch")
