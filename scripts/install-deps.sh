#!/usr/bin/env bash
# Installs the Debian 12 packages keras.cpp needs to build and test. Idempotent.
set -euo pipefail
packages=(build-essential cmake pkg-config nlohmann-json3-dev libgtest-dev libhdf5-dev libzip-dev zlib1g-dev libopenblas-dev dataset-fashion-mnist)
# --test: also what the tests read our files with, as Keras would (tests/readback).
[ "${1:-}" = "--test" ] && packages+=(python3 python3-h5py python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
