#!/usr/bin/env bash
# The test command: installs what it needs, builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
./scripts/build.sh
if [ -d ../shared/keras-models ]; then
  echo "real Keras files: ../shared/keras-models"
else
  echo "note: ../shared/keras-models is not here; tests that read real Keras files will say so and fail"
fi
ctest --test-dir "${BUILD_DIR:-build}" -j "$(nproc)" --output-on-failure
