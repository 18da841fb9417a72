#!/usr/bin/env bash
# Installs what bnlab needs from Debian's packages (only what is missing; as root, or through sudo) and
# builds it into build/. Safe to re-run: it installs nothing twice and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(gcc libc6-dev pkg-config meson ninja-build libopenblas-dev libxsmm-dev libcjson-dev zlib1g-dev gnuplot-nox)

bash scripts/ensure-packages.sh "${PACKAGES[@]}"

if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release >/dev/null
fi
meson compile -C build >/dev/null
echo "setup: built build/bnlab ($(build/bnlab --version))"
