#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the whole test suite with meson. Ends with the summary lines:
# "checks: N passed, N failed" (individual checks) and "tests: N passed, N failed" (test programs).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
# What the tests need beyond the build (PyTorch reference, headless Chromium, protobuf reader): installed here, before
# any test's timeout starts, so that no test skips on a fresh machine.
bash scripts/ensure-packages.sh python3-torch python3-numpy chromium python3-protobuf protobuf-compiler emscripten || exit 1
# The WebAssembly build (installs emscripten if missing; ninja rebuilds what changed), before any test's timeout starts:
# the tests that run it (wasm, web) then find it built, and never build it twice at once.
bash scripts/web.sh >/dev/null || exit 1
meson test -C build --print-errorlogs
rc=$?
log=build/meson-logs/testlog.txt
json=build/meson-logs/testlog.json
# Each test program prints "N passed, N failed" as its last line; add them up.
read -r cp cf < <(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | awk '{p += $1; f += $3} END {print p + 0, f + 0}')
total=$(grep -c '"name"' "$json")
tp=$(grep -c '"result": "OK"' "$json")
ts=$(grep -c '"result": "SKIP"' "$json" || true)  # grep -c exits 1 when it counts 0
echo "checks: $cp passed, $cf failed"
echo "tests: $tp passed, $((total - tp - ts)) failed, $ts skipped"
exit $rc
