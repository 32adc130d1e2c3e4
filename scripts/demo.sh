#!/usr/bin/env bash
# The main job: installs what it needs, builds, answers the seed question, trains the keras.io
# convnet on Fashion-MNIST (saved as out/fashion_mnist.keras), and trains a Conv2D +
# BatchNormalization network from an architecture JSON with the kerascpp tool.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
build=${BUILD_DIR:-build}
out=out
mkdir -p "$out"
echo "== How does Flatten order values? (examples/flatten_order.cpp)"
"$build/examples/flatten_order"
echo
echo "== VGG16 base + a small head (examples/vgg16_head.cpp)"
"$build/examples/vgg16_head"
echo
echo "== The keras.io MNIST convnet trained on Fashion-MNIST (examples/fashion_mnist.cpp)"
"$build/examples/fashion_mnist" --out "$out/fashion_mnist.keras" "$@"
echo
echo "== kerascpp fit: Conv2D + BatchNormalization + MaxPooling2D + Dropout + Dense (examples/models/fashion_mnist_bn.json)"
"$build/kerascpp" fit examples/models/fashion_mnist_bn.json --dataset fashion_mnist --epochs 2 --batch-size 128 \
  --optimizer adam --loss sparse_categorical_crossentropy --metrics accuracy --seed 1 -o "$out/fashion_mnist_bn.keras"
echo "Test split:"
"$build/kerascpp" evaluate "$out/fashion_mnist_bn.keras" --dataset fashion_mnist
