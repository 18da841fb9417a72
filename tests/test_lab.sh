#!/usr/bin/env bash
# Run and comparison directories under concurrent use: one writer per run directory (a second is refused at once,
# a dead one's lock recovered), compare/sweep stopped by a signal stop their runs and resume, a sweep reuses a run
# only when its resolved config is unchanged and writes only into comparison directories, names "." and ".."
# refused, and the exit status of a comparison with diverged and failed runs.
# usage: test_lab.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp lab
QUICK="$ROOT/configs/quick-bn.json"
TINY=(--set train.epochs=null --set train.steps=200 --set data.train_limit=2000 --set data.test_limit=500
      --set log.ics_every=0)
LONG=(--set train.epochs=null --set train.steps=200000 --set data.train_limit=2000 --set data.test_limit=500
      --set log.ics_every=0 --set log.percentiles.every=0 --set train.checkpoint.every=100)

# Waits (up to 10 s) until file $1 exists.
wait_for() { for _ in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }
# No process left whose command line names $1.
none_left() { ! pgrep -f -- "$1" >/dev/null; }

# 1. Two writers in one run directory: the second is refused at once, names the directory and the holder's PID,
# and writes nothing (not even its banner line); --resume is refused the same way.
"$BNLAB" train "$QUICK" "${LONG[@]}" --out "$T/r1" >"$T/r1.out" 2>&1 &
p1=$!
wait_for "$T/r1/checkpoints/step-000000100.safetensors"
"$BNLAB" train "$QUICK" "${TINY[@]}" --out "$T/r1" --force >"$T/r1b.out" 2>"$T/r1b.err"
rc=$?
check '[ $rc -eq 1 ]' "second writer: exit $rc, expected 1"
check '[ "$(wc -l <"$T/r1b.err")" -eq 1 ] && grep -qF "$T/r1" "$T/r1b.err" && grep -q "PID $p1" "$T/r1b.err"' \
  "second writer's message (directory, PID $p1): $(cat "$T/r1b.err")"
check '[ ! -s "$T/r1b.out" ]' "second writer wrote: $(cat "$T/r1b.out")"
"$BNLAB" train --resume "$T/r1" >/dev/null 2>"$T/r1c.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "PID $p1" "$T/r1c.err"' "resume while running: exit $rc: $(cat "$T/r1c.err")"
# A lock left by a process killed with SIGKILL is no obstacle: the kernel released it.
kill -KILL $p1
wait $p1 2>/dev/null
"$BNLAB" train "$QUICK" "${TINY[@]}" --out "$T/r1" --force >/dev/null 2>"$T/r1d.err"
rc=$?
check '[ $rc -eq 0 ]' "after kill -9 the run directory stayed locked: exit $rc: $(cat "$T/r1d.err")"

# 2. A comparison directory has one writer too.
cat >"$T/two.json" <<JSON
{"name": "two", "base": "$QUICK", "variants": [{"name": "a"}, {"name": "b", "set": {"train.optimizer.lr": 0.3}}],
 "seeds": 1, "set": {"train.epochs": null, "train.steps": 1500, "data.train_limit": 2000, "data.test_limit": 500,
 "log.ics_every": 0}}
JSON
"$BNLAB" compare "$T/two.json" --jobs 2 --out "$T/c1" >"$T/c1.out" 2>&1 &
p2=$!
wait_for "$T/c1/compare.json"
"$BNLAB" compare "$T/two.json" --jobs 2 --out "$T/c1" --force >/dev/null 2>"$T/c1b.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "PID $p2" "$T/c1b.err" && [ "$(wc -l <"$T/c1b.err")" -eq 1 ]' \
  "second compare into the same --out: exit $rc: $(cat "$T/c1b.err")"
wait $p2
rc=$?
check '[ $rc -eq 0 ]' "first compare disturbed: exit $rc: $(tail -2 "$T/c1.out")"

# 3. SIGTERM to a sweep: forwarded to every run, nothing left running, exit 4 with how to resume; a rerun finishes.
cat >"$T/sig.json" <<JSON
{"name": "sig", "base": "$QUICK", "variants": [{"name": "a"}], "grid": {"train.optimizer.lr": [0.2, 0.4, 0.6]},
 "seeds": 1, "set": {"train.epochs": null, "train.steps": 2000, "data.train_limit": 2000, "data.test_limit": 500,
 "log.ics_every": 0, "log.percentiles.every": 0}}
JSON
"$BNLAB" sweep "$T/sig.json" --jobs 2 --out "$T/sigout" >"$T/sig.out" 2>&1 &
p3=$!
wait_for "$T/sigout/a-lr0.4/seed-1/config.json"
sleep 0.3
kill -TERM $p3
wait $p3
rc=$?
check '[ $rc -eq 4 ]' "sweep after SIGTERM: exit $rc, expected 4: $(tail -3 "$T/sig.out")"
check 'none_left "$T/sigout"' "runs survived the sweep: $(pgrep -af -- "$T/sigout")"
check 'grep -q "interrupted" "$T/sigout/a-lr0.2/seed-1/summary.json"' "a run did not stop cleanly"
check '[ ! -e "$T/sigout/a-lr0.6/seed-1/config.json" ]' "a run was started after the signal"
check 'grep -q "rerun the same command" "$T/sig.out"' "no word on how to resume: $(tail -2 "$T/sig.out")"
"$BNLAB" sweep "$T/sig.json" --jobs 2 --out "$T/sigout" >"$T/sig2.out" 2>&1
rc=$?
check '[ $rc -eq 0 ] && [ "$(grep -c "completed" "$T/sigout/sweep.csv" )" -ge 0 ]' "sweep rerun: exit $rc"
for r in a-lr0.2 a-lr0.4 a-lr0.6; do
  check 'grep -q "\"completed\"" "$T/sigout/$r/seed-1/summary.json"' "$r did not complete on the rerun"
done
check 'grep -q "a-lr0.2 seed 1: resumed" "$T/sig2.out" || grep -q "a-lr0.2 seed 1: completed" "$T/sig2.out"' \
  "rerun: $(grep "^\[" "$T/sig2.out")"
# The resumed run equals an uninterrupted one (same config, same seed).
"$BNLAB" train "$QUICK" --set train.epochs=null --set train.steps=2000 --set data.train_limit=2000 \
  --set data.test_limit=500 --set log.ics_every=0 --set log.percentiles.every=0 --set train.optimizer.lr=0.2 \
  --set log.progress=never --out "$T/straight" >/dev/null 2>&1
check 'cmp -s <(cut -d, -f1-7 "$T/straight/metrics.csv") <(cut -d, -f1-7 "$T/sigout/a-lr0.2/seed-1/metrics.csv")' \
  "a run stopped by the sweep's signal and resumed differs from an uninterrupted one"

# The same for compare: SIGINT, exit 4; a rerun with --force completes every run.
"$BNLAB" compare "$T/sig.json" --jobs 2 --out "$T/csig" >"$T/csig.out" 2>&1 &
p4=$!
wait_for "$T/csig/a-lr0.4/seed-1/config.json"
sleep 0.3
kill -INT $p4
wait $p4
rc=$?
check '[ $rc -eq 4 ] && none_left "$T/csig"' "compare after SIGINT: exit $rc: $(tail -2 "$T/csig.out")"
"$BNLAB" compare "$T/sig.json" --jobs 2 --out "$T/csig" --force >"$T/csig2.out" 2>&1
rc=$?
check '[ $rc -eq 0 ] && grep -q "^| a-lr0.6 | 1/1 |" "$T/csig/summary.md"' "compare rerun: exit $rc: $(tail -2 "$T/csig2.out")"

# 4. A changed spec is not answered with old runs: reuse only on the same resolved config.
mk_sweep() {  # STEPS
  cat >"$T/st.json" <<JSON
{"name": "st", "base": "$QUICK", "variants": [{"name": "a"}], "grid": {"train.optimizer.lr": [0.2, 0.4]},
 "seeds": 1, "set": {"train.epochs": null, "train.steps": $1, "data.train_limit": 2000, "data.test_limit": 500,
 "log.ics_every": 0}}
JSON
}
mk_sweep 300
"$BNLAB" sweep "$T/st.json" --jobs 2 --out "$T/st" >/dev/null 2>&1
check 'grep -q "\"steps\":[[:space:]]*300" "$T/st/a-lr0.2/seed-1/summary.json"' "first sweep"
mk_sweep 100
"$BNLAB" sweep "$T/st.json" --jobs 2 --out "$T/st" >"$T/st2.out" 2>&1
rc=$?
check '[ $rc -eq 0 ] && ! grep -q "already completed" "$T/st2.out"' "changed spec reused old runs: $(grep "^\[" "$T/st2.out")"
check '[ "$(grep -c "config changed" "$T/st2.out")" -eq 2 ]' "no word that runs started afresh: $(cat "$T/st2.out")"
check 'grep -q "\"steps\":[[:space:]]*100" "$T/st/a-lr0.4/seed-1/summary.json"' "the table is built from old runs"
check '[ ! -e "$T/st/a-lr0.2/seed-1/checkpoints/step-000000300.safetensors" ]' "the old run's checkpoint is left"
"$BNLAB" sweep "$T/st.json" --jobs 2 --out "$T/st" >"$T/st3.out" 2>&1
check '[ "$(grep -c "already completed" "$T/st3.out")" -eq 2 ]' "an unchanged spec reran: $(grep "^\[" "$T/st3.out")"

# sweep --out into a single run (not a comparison) is refused; the run is untouched. sweep takes no --force (it
# resumes what is there): a command-line error.
"$BNLAB" train "$QUICK" "${TINY[@]}" --out "$T/single" >/dev/null 2>&1
cp "$T/single/summary.json" "$T/single.before"
"$BNLAB" sweep "$T/st.json" --out "$T/single" >/dev/null 2>"$T/single.err"
rc=$?
check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/single.err")" -eq 1 ] && grep -qF "$T/single" "$T/single.err"' \
  "sweep --out RUN: exit $rc: $(cat "$T/single.err")"
"$BNLAB" sweep "$T/st.json" --out "$T/single" --force >/dev/null 2>"$T/single.err"
rc=$?
check '[ $rc -eq 2 ] && grep -q "sweep does not take --force" "$T/single.err"' "sweep --force: exit $rc: $(cat "$T/single.err")"
"$BNLAB" compare "$T/st.json" --out "$T/single" --force >/dev/null 2>&1
check 'cmp -s "$T/single/summary.json" "$T/single.before" && [ ! -e "$T/single/compare.json" ]' \
  "a single run's directory was written into"

# 5. Names "." and ".." are refused, and nothing is written outside --out.
mkdir "$T/names"
for n in . ..; do
  printf '{"name": "x", "base": "%s", "variants": [{"name": "%s"}], "set": {"train.steps": 10, "train.epochs": null}}' \
    "$QUICK" "$n" >"$T/dots.json"
  for cmd in compare sweep; do
    "$BNLAB" $cmd "$T/dots.json" --out "$T/names/out" >/dev/null 2>"$T/dots.err"
    rc=$?
    check '[ $rc -eq 1 ] && grep -q "variants\[0\].name" "$T/dots.err"' "$cmd variant \"$n\": exit $rc: $(cat "$T/dots.err")"
    check '[ -z "$(ls -A "$T/names")" ]' "$cmd variant \"$n\" wrote $(ls -A "$T/names")"
  done
done
printf '{"name": "..", "base": "%s", "variants": [{"name": "a"}]}' "$QUICK" >"$T/dotname.json"
"$BNLAB" compare "$T/dotname.json" >/dev/null 2>"$T/dotname.err"
check 'grep -q "name: expected" "$T/dotname.err"' "spec named ..: $(cat "$T/dotname.err")"
"$BNLAB" train "$QUICK" --set 'name=".."' --set log.dir="$T/names" >/dev/null 2>"$T/dotrun.err"
rc=$?
check '[ $rc -eq 1 ] && [ -z "$(ls -A "$T/names")" ]' "run named ..: exit $rc: $(cat "$T/dotrun.err")"

# 6. Divergence is a result of a comparison (exit 0, reported); a failed run is an error (exit 1).
DIVERGE='"train.optimizer.lr": 1e4, "train.optimizer.momentum": 0.9, "model.init": {"type": "he_normal"},
 "model.layers[1].type": "relu", "model.layers[3].type": "relu", "model.layers[5].type": "relu"'
cat >"$T/div.json" <<JSON
{"name": "div", "base": "$ROOT/configs/quick-nobn.json", "variants": [{"name": "ok"}, {"name": "boom", "set": {$DIVERGE}}],
 "seeds": 1, "set": {"train.epochs": null, "train.steps": 200, "data.train_limit": 2000, "data.test_limit": 500,
 "log.ics_every": 0}}
JSON
"$BNLAB" compare "$T/div.json" --jobs 2 --out "$T/div" >"$T/div.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "compare with a diverged run: exit $rc, expected 0: $(tail -2 "$T/div.out")"
check 'grep -q "boom seed 1: diverged" "$T/div.out" && grep -q "1 of 2 runs diverged" "$T/div.out"' \
  "divergence not reported: $(cat "$T/div.out")"
cat >"$T/fail.json" <<JSON
{"name": "fail", "base": "$QUICK", "variants": [{"name": "ok"}, {"name": "bad", "set": {"train.batch_size": 3000}}],
 "seeds": 1, "set": {"train.epochs": null, "train.steps": 100, "data.train_limit": 2000, "data.test_limit": 500,
 "log.ics_every": 0}}
JSON
"$BNLAB" compare "$T/fail.json" --jobs 2 --out "$T/fail" >"$T/fail.out" 2>&1
rc=$?
check '[ $rc -eq 1 ] && grep -q "bad seed 1: FAILED" "$T/fail.out"' "compare with a failed run: exit $rc: $(tail -2 "$T/fail.out")"
"$BNLAB" sweep "$T/div.json" --jobs 2 --out "$T/divsw" >"$T/divsw.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "sweep with a diverged run: exit $rc, expected 0"

# 8. A spec's (and a stack's) errors are a config's: the file, the JSON path, what was expected and what was found;
# exit 1, one line, nothing printed on stdout. (bnlab check SPEC validates without running.)
spec_bad() {  # spec_bad KEYS-JSON MESSAGE-FRAGMENT
  printf '{"name": "sb", "base": "%s", %s}\n' "$QUICK" "$1" >"$T/sb.json"
  "$BNLAB" check "$T/sb.json" >"$T/sb.out" 2>"$T/sb.err"
  local rc=$?
  frag=$2
  check '[ $rc -eq 1 ] && grep -q "^bnlab: error: $T/sb.json: " "$T/sb.err" && grep -qF "$frag" "$T/sb.err" &&
         [ "$(wc -l <"$T/sb.err")" -eq 1 ] && [ ! -s "$T/sb.out" ]' \
    "spec $1: exit $rc, expected 1 and \"$frag\": $(cat "$T/sb.err")"
}
spec_bad '"variants": []' 'variants: expected an array of 1..256 variants, got []'
spec_bad '"variants": {"name": "a"}' 'variants: expected an array of 1..256 variants, got {"name": "a"}'
spec_bad '"variants": null' 'variants: expected an array of 1..256 variants, got null'
spec_bad '"variants": [{"name": "a"}], "seeds": [1, -2]' 'seeds[1]: expected a non-negative integer, got -2'
spec_bad '"variants": [{"name": "a"}], "seeds": [1, "2"]' 'seeds[1]: expected a non-negative integer, got "2"'
spec_bad '"variants": [{"name": "a"}], "seeds": []' 'seeds: expected a number of seeds or a non-empty list, got []'
spec_bad '"variants": [{"name": "a"}], "seeds": 0' 'seeds: expected an integer in [1, 100], got 0'
spec_bad '"variants": [{"name": "a"}], "targets": 0.9' 'targets: expected an array of 1..'
spec_bad '"variants": [{"name": "a"}], "targets": 0.9' 'accuracies in (0, 1], got 0.9'
spec_bad '"variants": [{"name": "a"}], "targets": [0.5, 1.5]' 'targets[1]: expected an accuracy in (0, 1], got 1.5'
spec_bad '"variants": [{"name": "a"}], "grid": {"train.optimizer.lr": 0.5}' \
  'grid.train.optimizer.lr: expected an array of 1..32 values, got 0.5'
spec_bad '"variants": [{"name": "a"}], "jobs": -1' 'jobs: expected an integer in [0, 256], got -1'
spec_bad '"variants": [{"name": 7}]' 'variants[0].name: expected a string, got 7'
# The keys of a spec and of a variant are key tables (run/config.h keys_parse_object), as a config's sections.
spec_bad '"variants": [{"name": "a", "colour": 1}]' 'variants[0].colour: unknown key (allowed here: name, config, set)'
spec_bad '"variants": [{"config": "x.json"}]' 'variants[0].name: missing (the variant'"'"'s name, e.g. "bn")'
spec_bad '"variants": [{"name": "a"}], "extra": 1' 'extra: unknown key (allowed here: name, base, variants, seeds'
spec_bad '"variants": [{"name": "a"}], "claim": 3' 'claim: expected a string, got 3'
# model.stack inside a variant's set: the variant and the --set named, then the stack's path.
spec_bad '"variants": [{"name": "a", "set": {"model.layers": null, "model.stack": {"hidden": [100, 0]}}}]' \
  'model.stack.hidden[1]: expected a width 1..65536, got 0'
spec_bad '"variants": [{"name": "a", "set": {"model.layers": null, "model.stack": {"hidden": 100}}}]' \
  'model.stack.hidden: expected an array of hidden layer widths, e.g. [100, 100, 100], got 100'

finish lab
