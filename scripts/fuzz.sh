#!/usr/bin/env bash
# Runs the libFuzzer targets for SECONDS each (default 60): the config, idx, csv, safetensors and spec parsers; the
# strict log rule behind report and plot (logread), compare.json as the figures read it (compare), and bnlab report
# end to end on a short real run with one of its files replaced (report). Starts from the seed corpus in
# tests/fuzz/corpus/, with AddressSanitizer + UndefinedBehaviorSanitizer; an input that runs over 10 s is a hang and
# fails like a crash. Prints the executions reached and whether anything crashed; crashing and hanging inputs are
# kept in build-fuzz/crashes/.
#   usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config idx csv safetensors spec logread compare report)
bash scripts/setup.sh >/dev/null || exit 1
bash scripts/ensure-packages.sh clang libclang-rt-14-dev || exit 1
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
    --buildtype=debugoptimized >/dev/null || exit 1
fi
meson compile -C build-fuzz >/dev/null || exit 1
mkdir -p build-fuzz/crashes
status=0
printf '%-12s %8s %12s %8s %s\n' target seconds executions crashes corpus
for t in "${targets[@]}"; do
  work=build-fuzz/corpus-$t
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
  log=build-fuzz/fuzz-$t.log
  build-fuzz/fuzz_"$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix=build-fuzz/crashes/"$t"- "$work" >"$log" 2>&1
  rc=$?
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  crashes=$(ls build-fuzz/crashes/"$t"-* 2>/dev/null | wc -l)
  printf '%-12s %8s %12s %8s %s\n' "$t" "$secs" "${execs:-?}" "$crashes" "$(ls "$work" | wc -l) inputs"
  if [ $rc -ne 0 ] || [ "$crashes" -gt 0 ]; then status=1; grep -m3 -E 'ERROR|SUMMARY' "$log"; fi
done
exit $status
