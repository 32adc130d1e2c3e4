#!/usr/bin/env bash
# Configures and builds keras.cpp into ${BUILD_DIR:-build} (Release, warnings as errors).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DKERAS_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
