#!/usr/bin/env bash
# Runs the whole test suite built with AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer included):
# any out-of-bounds access, use-after-free, undefined behaviour or leak fails the run. Build dir: build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
meson compile -C build-asan >/dev/null
# halt_on_error: UBSan findings fail the test instead of scrolling by.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C build-asan --print-errorlogs
json=build-asan/meson-logs/testlog.json
total=$(grep -c '"name"' "$json")
ok=$(grep -c '"result": "OK"' "$json" || true)
skip=$(grep -c '"result": "SKIP"' "$json" || true)  # grep -c exits 1 when it counts 0
echo "sanitizers: $ok passed, $((total - ok - skip)) failed, $skip skipped"
[ $((ok + skip)) -eq "$total" ]
