#!/usr/bin/python3
"""The benchmark's nets in PyTorch (random weights, seed 0), and their ONNX export for ORT.

  W1        keras.io MNIST convnet, 28x28x1 -> 10 softmax
  VGG16     keras.applications.VGG16(include_top=True), 224x224x3 -> 1000 softmax
  seed_head 4x4x512 -> Flatten -> Dense 256 relu -> Dense 1 sigmoid

Layout is PyTorch's native NCHW (the Keras nets are NHWC; with random weights the only
difference is the Flatten order, which does not change the work). Export writes
w1.onnx, vgg16.onnx, seed_head.onnx with a dynamic batch axis:
   /usr/bin/python3 bench/peers/models.py [CACHE_DIR]      (default bench/peers/.cache/)
"""
import os
import sys

import torch
from torch import nn

# name -> (input shape without batch, NCHW)
INPUTS = {"w1": (1, 28, 28), "vgg16": (3, 224, 224), "seed_head": (512, 4, 4)}


def w1():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10), nn.Softmax(dim=1))


def vgg16():
    layers, c = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU()]
            c = v
    return nn.Sequential(
        *layers, nn.Flatten(),
        nn.Linear(7 * 7 * 512, 4096), nn.ReLU(),
        nn.Linear(4096, 4096), nn.ReLU(),
        nn.Linear(4096, 1000), nn.Softmax(dim=1))


def seed_head():
    return nn.Sequential(nn.Flatten(), nn.Linear(4 * 4 * 512, 256), nn.ReLU(),
                         nn.Linear(256, 1), nn.Sigmoid())


def build(name):
    """The net `name` with seed-0 random weights, in eval mode."""
    torch.manual_seed(0)
    return {"w1": w1, "vgg16": vgg16, "seed_head": seed_head}[name]().eval()


def export(cache_dir):
    os.makedirs(cache_dir, exist_ok=True)
    for name, shape in INPUTS.items():
        path = os.path.join(cache_dir, name + ".onnx")
        if os.path.exists(path):
            continue
        with torch.no_grad():
            torch.onnx.export(build(name), torch.zeros(1, *shape), path, opset_version=17,
                              input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
        print("wrote", path)


if __name__ == "__main__":
    export(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".cache"))
