# harness.sh — sourced by the shell tests: counters, check, and the closing "N passed, N failed" line.
# check CONDITION MESSAGE: CONDITION is eval'ed. Save exit statuses in a variable first: the MESSAGE's command
# substitutions run before check and would reset $?.
pass=0
fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi; }
# test_tmp NAME: T, a fresh directory /tmp/bnlab-NAME-XXXXXX, removed when the test exits — or kept and named with
# BNLAB_KEEP_TEST_DIR=1 (to look at a test's figures and logs). A test with more to end at exit sets its own trap.
test_tmp() {
  T=$(mktemp -d "/tmp/bnlab-$1-XXXXXX") || { echo "FAIL: mktemp -d /tmp/bnlab-$1-XXXXXX"; echo "0 passed, 1 failed"; exit 1; }
  trap '[ -n "${BNLAB_KEEP_TEST_DIR-}" ] && echo "kept $T" || rm -rf "$T"' EXIT
}

# deep_relu_pair FILE SEEDS 'SET' ['MORE']: writes FILE, a comparison (bnlab compare) of configs/deep-relu.json
# (blocks of dense(100)-BN-ReLU, variant "bn") against configs/deep-relu-nobn.json (the same blocks without BN, He
# init, variant "nobn") with SEEDS seeds and "set": {SET} — SET its JSON members: the depth
# ("model.layers[0].repeat"), the steps, the data's size, the logs; MORE: members of the spec beside them, each
# followed by a comma (a sweep's "grid": {...}, "targets": [...]).
deep_relu_pair() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  cat >"$1" <<JSON
{"name": "deep", "variants": [
  {"name": "bn", "config": "$root/configs/deep-relu.json"},
  {"name": "nobn", "config": "$root/configs/deep-relu-nobn.json"}],
 ${4-}"seeds": $2, "set": {$3}}
JSON
}

# finish NAME: prints the summary lines and returns non-zero if anything failed.
finish() {
  echo "$1: $pass passed, $fail failed"
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}

# need_numpy ROOT: installs python3-numpy through the project's scripts if missing; fails the test (exit 1) if it
# cannot — never a skip (the float64 checks of tests/test_update_ratios.sh, test_unit_updates.sh).
need_numpy() {
  bash "$1/scripts/ensure-packages.sh" python3-numpy >/dev/null 2>&1
  /usr/bin/python3 -c "import numpy" 2>/dev/null || { echo "FAIL: python3-numpy could not be installed"; exit 1; }
}

# need_torch ROOT: the same for Debian's python3-torch (and numpy), the PyTorch float64 checks' reference.
need_torch() {
  bash "$1/scripts/ensure-packages.sh" python3-torch python3-numpy >/dev/null 2>&1
  /usr/bin/python3 -c "import torch, numpy" 2>/dev/null ||
    { echo "FAIL: python3-torch not installable (scripts/ensure-packages.sh python3-torch)"; echo "0 passed, 1 failed"; exit 1; }
}

# need_chromium ROOT: installs Debian's chromium through the project's scripts if missing and sets CHROMIUM to it;
# fails the test (exit 1) if it cannot — never a skip (the browser checks of tests/test_report.sh, test_web.sh).
need_chromium() {
  bash "$1/scripts/ensure-packages.sh" chromium >/dev/null 2>&1
  CHROMIUM=$(command -v chromium || true)
  [ -n "$CHROMIUM" ] || { echo "FAIL: chromium missing and not installable (scripts/ensure-packages.sh chromium)"; echo "0 passed, 1 failed"; exit 1; }
}
