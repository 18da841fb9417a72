#!/usr/bin/env bash
# Expectations in comparison specs (src/lab/expect.h): parsing errors name the spec and the JSON path and run
# nothing; a tiny comparison whose expectations hold exits 0 with ✔ lines, one with an unmet expectation exits 5
# with a ✘ line, and summary.json/summary.md record each with its measured value; a sweep checks them too.
# usage: test_expect.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp expect
QUICK="$ROOT/configs/quick-bn.json"
# The init is pinned (the Fig. 1 pair's): the measured values below must not move with the demo config's init.
COMMON='"seeds": 1, "targets": [0.5, 0.8],
 "set": {"train.epochs": null, "train.steps": 200, "data.train_limit": 2000, "data.test_limit": 500,
         "log.ics_every": 0, "log.percentiles.every": 0, "model.init": {"type": "normal", "std": 0.01}}'

# spec NAME EXPECT: a spec of two variants, a (lr 0.1) and slow (lr 0.001: learns almost nothing in 200 steps).
spec() {
  cat >"$T/$1.json" <<JSON
{"name": "$1", "base": "$QUICK", "claim": "a test of the claims lab",
 "variants": [{"name": "a"}, {"name": "slow", "set": {"train.optimizer.lr": 0.001}}], $COMMON,
 "expect": $2}
JSON
}

# 1. Parsing errors: exit 1, one line naming the file and the JSON path, nothing written.
bad() {  # bad EXPECT MESSAGE-FRAGMENT
  spec bad "$1"
  frag=$2
  rm -rf "$T/bad-out"
  "$BNLAB" compare "$T/bad.json" --out "$T/bad-out" >"$T/bad.out" 2>"$T/bad.err"
  local rc=$?
  check '[ $rc -eq 1 ] && grep -qF "$T/bad.json: $frag" "$T/bad.err" && [ "$(wc -l <"$T/bad.err")" -eq 1 ] && [ ! -e "$T/bad-out" ]' \
    "bad expectation $1: exit $rc, expected 1 and \"$frag\": $(cat "$T/bad.err")"
}
bad '[{"metric": "steps", "variant": "a", "at_least": 1}]' 'expect[0].metric: expected one of'
bad '[{"metric": "final_acc", "variant": "b", "at_least": 1}]' 'expect[0].variant: no variant "b" in this spec'
bad '[{"metric": "final_acc", "variant": "a", "at_least": 0.5}, {"metric": "final_acc", "variant": "a", "at_least": 1, "ratio": 2}]' \
  'expect[1].ratio: unknown key'
bad '[{"metric": "steps_to", "variant": "a", "at_most": 100}]' 'expect[0].target: missing'
bad '[{"metric": "steps_to", "target": 0.9, "variant": "a", "at_most": 100}]' "expect[0].target: 0.9 is not one of the spec's targets"
bad '[{"metric": "final_acc", "target": 0.5, "variant": "a", "at_most": 1}]' 'expect[0].target: only used with metric "steps_to"'
bad '[{"metric": "final_acc", "variant": "a", "ratio_to": "slow", "at_least": 1}]' 'expect[0].ratio_to: only used with metric "steps_to" or "log"'
bad '[{"metric": "steps_to", "target": 0.5, "variant": "a", "difference_to": "slow", "at_least": 1}]' \
  'expect[0].difference_to: only used with metric "final_acc", "best_acc" or "log"'
bad '[{"metric": "final_acc", "variant": "a", "column": "p50", "at_least": 1}]' 'expect[0].column: only used with metric "log"'
bad '[{"metric": "log", "variant": "a", "column": "p50", "at_least": 1}]' 'expect[0].file: missing'
bad '[{"metric": "log", "variant": "a", "file": "metrics.csv", "column": "test_acc", "over": "median", "at_least": 1}]' \
  'expect[0].over: expected one of'
bad '[{"metric": "steps_to", "target": 0.5, "variant": "a", "ratio_to": "zz", "at_least": 1}]' 'expect[0].ratio_to: no variant "zz"'
bad '[{"metric": "final_acc", "variant": "a", "difference_to": "a", "at_least": 0}]' "expect[0].difference_to: \"a\" is the expectation's own variant"
bad '[{"metric": "status", "variant": "a", "at_least": 1}]' 'expect[0].at_least: only used with a number'"'"'s metric (a status is compared with "equals")'
bad '[{"metric": "final_acc", "variant": "a", "equals": "completed"}]' 'expect[0].equals: only used with metric "status"'
bad '[{"metric": "status", "variant": "a", "equals": "fine"}]' 'expect[0].equals: expected one of "completed"'
bad '[{"metric": "final_acc", "variant": "a", "at_least": 0.1, "at_most": 1}]' 'expect[0]: expected exactly one of'
bad '[{"metric": "final_acc", "variant": "a"}]' 'expect[0]: expected exactly one of "at_least", "at_most", "equals", found 0'
bad '[{"variant": "a", "at_least": 0}]' 'expect[0].metric: missing'
bad '[{"metric": "best_acc", "at_least": 0}]' 'expect[0].variant: missing'
bad '[{"metric": "final_acc", "variant": "a", "at_least": "high"}]' 'expect[0].at_least: expected a number'
# Parsed through the key table (base/keys.h) as configs are: a wrong type, an unknown key, a missing key — one line
# with the file, the JSON path, what was expected and what was found.
bad '[{"metric": "final_acc", "variant": 3, "at_least": 0}]' 'expect[0].variant: expected a string, got 3'
bad '[{"metric": "final_acc", "variant": "a", "at_least": 0, "why": ["x"]}]' 'expect[0].why: expected a string, got ['
bad '[{"metric": "steps_to", "target": "high", "variant": "a", "at_most": 9}]' 'expect[0].target: expected a number in (0, 1], got "high"'
bad '[{"metric": "steps_to", "target": 1.5, "variant": "a", "at_most": 9}]' 'expect[0].target: expected a number in (0, 1], got 1.5'
bad '[{"metric": "status", "variant": "a", "equals": 1}]' 'expect[0].equals: expected one of'
bad '[{"metric": 2, "variant": "a", "at_least": 0}]' 'expect[0].metric: expected one of'
bad '[{"metric": "final_acc", "variant": "a", "at_leest": 0}]' 'expect[0].at_leest: unknown key (allowed here:'
bad '[{"metric": "steps_to", "variant": "a", "at_least": 0}]' 'expect[0].target: missing (required with metric "steps_to")'
bad '[{"metric": "final_acc", "variant": "a", "at_least": 0}, 7]' 'expect[1]: expected an object'
bad '[]' 'expect: expected an array of 1..32 expectations, got []'
bad '{"metric": "final_acc"}' 'expect: expected an array of 1..32 expectations, got {"metric": "final_acc"}'
spec bad '[{"metric": "final_acc", "variant": "a", "at_least": 0}]'
sed -i 's/"claim": "a test of the claims lab"/"claim": 3/' "$T/bad.json"
"$BNLAB" compare "$T/bad.json" --out "$T/bad-out" >/dev/null 2>"$T/bad.err"
rc=$?
check '[ $rc -eq 1 ] && grep -qF "claim: expected a string" "$T/bad.err"' "claim as a number: exit $rc: $(cat "$T/bad.err")"

# 2. Every expectation met: exit 0, a ✔ line each, summary.json records them.
spec pass '[{"metric": "final_acc", "variant": "a", "at_least": 0.5, "why": "a learns"},
            {"metric": "final_acc", "variant": "a", "difference_to": "slow", "at_least": 0.1},
            {"metric": "steps_to", "target": 0.5, "variant": "slow", "ratio_to": "a", "at_least": 2},
            {"metric": "best_acc", "variant": "slow", "at_most": 0.5},
            {"metric": "status", "variant": "slow", "equals": "completed"},
            {"metric": "log", "variant": "a", "file": "metrics.csv", "column": "train_acc", "minus": "test_acc",
             "difference_to": "slow", "at_least": -1},
            {"metric": "log", "variant": "a", "file": "layer_stats.csv", "column": "std", "where": {"source": "probe_train",
             "layer_type": "dense"}, "ratio_to_where": {"source": "probe", "layer_type": "dense"}, "rows": "max",
             "ratio_to": "slow", "at_least": 0.5}]'
"$BNLAB" compare "$T/pass.json" --jobs 2 --out "$T/pass" >"$T/pass.out" 2>"$T/pass.err"
rc=$?
check '[ $rc -eq 0 ] && [ ! -s "$T/pass.err" ]' "expectations met: exit $rc, expected 0: $(cat "$T/pass.err")"
check '[ "$(grep -c "^  ✔ " "$T/pass.out")" -eq 7 ] && ! grep -q "✘" "$T/pass.out"' "seven ✔ lines: $(grep -E "✔|✘" "$T/pass.out")"
check 'grep -q "^  ✔ steps_to 50%: slow / a = ∞ (never / [0-9]*); expected at least 2$" "$T/pass.out"' \
  "the ratio line (a target never reached is infinitely many steps): $(grep "steps_to" "$T/pass.out")"
check 'grep -q "^expectations: 7 of 7 met ✔$" "$T/pass.out" && grep -q "^expectations — a test of the claims lab:$" "$T/pass.out"' \
  "closing line and claim: $(tail -3 "$T/pass.out")"
j="$T/pass/summary.json"
check 'grep -q "\"expectations_failed\":[[:space:]]*0" "$j" && grep -q "\"claim\":[[:space:]]*\"a test of the claims lab\"" "$j"' \
  "summary.json expectations_failed 0 and the claim"
check '[ "$(grep -c "\"passed\":[[:space:]]*true" "$j")" -eq 7 ] && grep -q "\"measured_text\":" "$j" && grep -q "\"why\":[[:space:]]*\"a learns\"" "$j"' \
  "summary.json: each expectation passed, with its measured text and why"
check 'grep -q "^## Expectations" "$T/pass/summary.md" && [ "$(grep -c "^| ✔ |" "$T/pass/summary.md")" -eq 7 ]' \
  "summary.md's expectations table"
check 'grep -q "\"expect\":" "$T/pass/compare.json" && grep -q "\"ratio_to_where\":" "$T/pass/compare.json"' "compare.json records the expectations"
check 'grep -q "^  ✔ metrics.csv train_acc−test_acc, final: a − slow = " "$T/pass.out" && grep -q "^  ✔ layer_stats.csv std \[source=probe_train layer_type=dense\] / \[source=probe layer_type=dense\] max of rows, final: a / slow = " "$T/pass.out"' \
  "log expectations' lines: $(grep -E "csv" "$T/pass.out")"

# 3. One expectation not met: exit 5 after every run completed, its ✘ line with the measured value, the others ✔;
# summary.json says which.
spec fail '[{"metric": "final_acc", "variant": "a", "at_least": 0.5},
            {"metric": "final_acc", "variant": "slow", "at_least": 0.99},
            {"metric": "status", "variant": "slow", "equals": "diverged_or_chance"},
            {"metric": "log", "variant": "a", "file": "param_stats.csv", "column": "norm", "at_least": 0}]'
"$BNLAB" compare "$T/fail.json" --jobs 2 --out "$T/fail" >"$T/fail.out" 2>"$T/fail.err"
rc=$?
check '[ $rc -eq 5 ]' "an unmet expectation: exit $rc, expected 5"
check 'grep -q "^  ✘ final_acc: slow = 0\.[0-9]\{4\}; expected at least 0.99$" "$T/fail.out" && grep -q "^  ✔ final_acc: a = " "$T/fail.out"' \
  "✘ and ✔ lines: $(grep -E "✔|✘" "$T/fail.out")"
check 'grep -q "^  ✘ status: slow = 1/1 completed (0 of them at chance" "$T/fail.out"' \
  "status measured: $(grep status "$T/fail.out")"
check 'grep -q "^  ✘ param_stats.csv norm, final: a = n/a; .*/a/seed-1/param_stats.csv: cannot" "$T/fail.out"' \
  "a log that was not written: not met, its message shown: $(grep param_stats "$T/fail.out")"
check 'grep -q "^expectations: 1 of 4 met$" "$T/fail.out" && grep -q "3 of 4 expectations not met" "$T/fail.err" && [ "$(wc -l <"$T/fail.err")" -eq 1 ]' \
  "closing lines: $(tail -1 "$T/fail.out") / $(cat "$T/fail.err")"
j="$T/fail/summary.json"
check 'grep -q "\"expectations_failed\":[[:space:]]*3" "$j" && [ "$(grep -c "\"passed\":[[:space:]]*false" "$j")" -eq 3 ]' \
  "summary.json: expectations_failed 3"
check 'grep -q "\"runs_failed\":[[:space:]]*0" "$j"' "the runs themselves all completed"
check '[ "$(grep -c "^| ✘ |" "$T/fail/summary.md")" -eq 3 ]' "summary.md's ✘ rows"

# 4. A diverged variant (a ReLU net at lr 1e4 overflows, as in test_lab.sh): "diverged" and "diverged_or_chance"
# hold, a number of it is n/a and not met.
cat >"$T/div.json" <<JSON
{"name": "div", "base": "$ROOT/configs/quick-nobn.json", $COMMON,
 "variants": [{"name": "a"}, {"name": "boom", "set": {"train.optimizer.lr": 1e4, "train.optimizer.momentum": 0.9,
   "model.init": {"type": "he_normal"}, "model.layers[1].type": "relu", "model.layers[3].type": "relu",
   "model.layers[5].type": "relu"}}],
 "expect": [{"metric": "status", "variant": "boom", "equals": "diverged"},
            {"metric": "status", "variant": "boom", "equals": "diverged_or_chance"},
            {"metric": "final_acc", "variant": "boom", "at_least": 0}]}
JSON
"$BNLAB" compare "$T/div.json" --jobs 2 --out "$T/div" >"$T/div.out" 2>"$T/div.err"
rc=$?
check '[ $rc -eq 5 ] && grep -q "^  ✔ status: boom = 0/1 completed (0 of them at chance, final acc < 0.2), 1 diverged; expected diverged$" "$T/div.out"' \
  "diverged status: exit $rc: $(grep -E "✔|✘" "$T/div.out") $(cat "$T/div.err")"
check 'grep -q "^  ✔ status: boom = .*; expected diverged_or_chance$" "$T/div.out" && grep -q "^  ✘ final_acc: boom = n/a (no completed seed); expected at least 0$" "$T/div.out"' \
  "a diverged variant's numbers are n/a: $(grep -E "✔|✘" "$T/div.out")"

# 5. A sweep checks expectations over the expanded run names.
cat >"$T/sweep.json" <<JSON
{"name": "sw", "base": "$QUICK", "variants": [{"name": "bn"}], "grid": {"train.optimizer.lr": [0.001, 0.1]}, $COMMON,
 "expect": [{"metric": "final_acc", "variant": "bn-lr0.1", "difference_to": "bn-lr0.001", "at_least": 0.1}]}
JSON
"$BNLAB" sweep "$T/sweep.json" --jobs 2 --out "$T/sw" >"$T/sw.out" 2>"$T/sw.err"
rc=$?
check '[ $rc -eq 0 ] && grep -q "^  ✔ final_acc: bn-lr0.1 − bn-lr0.001 = " "$T/sw.out"' "sweep: exit $rc: $(grep -E "✔|✘" "$T/sw.out") $(cat "$T/sw.err")"
sed -i 's/"variant": "bn-lr0.1"/"variant": "bn"/' "$T/sweep.json"
"$BNLAB" sweep "$T/sweep.json" --out "$T/sw2" >/dev/null 2>"$T/sw.err"
rc=$?
check '[ $rc -eq 1 ] && grep -qF "expect[0].variant: no variant \"bn\" in this spec (its variants: bn-lr0.001, bn-lr0.1)" "$T/sw.err"' \
  "sweep: a declared (unexpanded) name: exit $rc: $(cat "$T/sw.err")"
finish expect
