#!/usr/bin/env bash
# The main job: installs what it needs, builds, and runs the seed examples.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
build=${BUILD_DIR:-build}
echo "== How does Flatten order values? (examples/flatten_order.cpp)"
"$build/examples/flatten_order"
echo
echo "== VGG16 base + a small head (examples/vgg16_head.cpp)"
"$build/examples/vgg16_head"
