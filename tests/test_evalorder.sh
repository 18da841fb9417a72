#!/usr/bin/env bash
# The evaluation order (run/evalorder.h) leaves every log as it is, bit for bit, with the GEMM backend the environment
# forces (meson runs it as evalorder@openblas, @libxsmm and @portable, BNLAB_GEMM set):
#  - tests/test_evalorder.c (the order is a permutation, fewer terms, forward_set's loss bits in both orders, the
#    safety rule), and its negative control: linked with a copy of run/evalorder.c that puts each logit one row off
#    (eval_order_put), it fails on the loss checks;
#  - runs of the paper's network on the embedded MNIST subset, BNLAB_EVAL_ORDER=file against the default order: every
#    file of the run directories is the same (metrics.csv/jsonl without the wall clock, summary.json without the
#    wall clock and memory, checkpoints, layer statistics, percentiles, ICS), with the test set evaluated in batches
#    of 1,000 and, again, 1,700 test images in batches of 400 (a last batch of 100; batches not a multiple of 3), with
#    log.eval_batch_stats on (its pass normalizes each batch by its own statistics: file order by the safety rule);
#    the network without BN too;
#  - negative control: bnlab linked with the planted copy gives other metrics in the default order (the order is
#    really used by the runs, and the comparison sees a wrong un-permutation), and the same as file order with
#    BNLAB_EVAL_ORDER=file (the variable really turns it off). With a backend whose products give a row other bits
#    at another place in the batch (OpenBLAS: gemm_rows_independent), the order is not used (test_evalorder says
#    which): then the planted copies change nothing;
#  - a bad BNLAB_EVAL_ORDER is refused in one line.
# usage: test_evalorder.sh BNLAB BNLAB_PLANTED TEST_EVALORDER TEST_EVALORDER_PLANTED SOURCE_ROOT
set -u
BNLAB=$1
PLANTED=$2
TEST=$3
TEST_PLANTED=$4
ROOT=$5
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp evalorder
want=${BNLAB_GEMM:-auto}

out=$("$TEST" 2>&1); rc=$?
check '[ $rc -eq 0 ]' "$want: test_evalorder failed: $out"
# Where the backend's products give a row other bits at another place (OpenBLAS), runs keep file order: then the
# planted copy must change nothing; elsewhere it must fail.
used=0
echo "$out" | grep -q "evaluation mode, backend [a-z]*: evaluation order" && used=1
echo "$want: $(echo "$out" | grep "evaluation mode, backend")"
out=$("$TEST_PLANTED" 2>&1); rc=$?
if [ $used = 1 ]; then
  check '[ $rc -ne 0 ] && echo "$out" | grep -q "the loss in the evaluation order differs"' \
    "$want: test_evalorder linked with the planted eval_order_put did not fail on the loss: exit $rc: $out"
else
  check '[ $rc -eq 0 ]' "$want: the order is not used, yet the planted eval_order_put changed a result: $out"
fi

# Every file of run directory $1 equals $2's, the wall-clock columns and fields aside.
strip() {
  case "$1" in
  */metrics.csv) awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "seconds") s = i} {out = ""; for (i = 1; i <= NF; i++) if (i != s) out = out $i ","; print out}' "$1" ;;
  */metrics.jsonl) sed 's/"seconds":[^,}]*//' "$1" ;;
  */summary.json) grep -v '"seconds"\|"peak_rss_mb"' "$1" ;;
  *) cat "$1" ;;
  esac
}
same_run() {
  local a=$1 b=$2 f
  [ -s "$a/metrics.csv" ] && [ -s "$b/metrics.csv" ] || return 1
  [ "$(cd "$a" && find . -type f ! -name .lock | sort)" = "$(cd "$b" && find . -type f ! -name .lock | sort)" ] || return 1
  for f in $(cd "$a" && find . -type f ! -name .lock | sort); do
    cmp -s <(strip "$a/$f") <(strip "$b/$f") || { echo "differs: $f" >&2; return 1; }
  done
}
RUN=(--set train.steps=300 --set train.eval_every=50 --set log.ics_every=100 --set log.progress=never
     --set train.checkpoint.every=150)
run() {  # run BINARY ORDER DIR CONFIG [--set ...]
  local bin=$1 order=$2 dir=$3 cfg=$4
  shift 4
  BNLAB_EVAL_ORDER=$order "$bin" train "$ROOT/configs/$cfg" "${RUN[@]}" "$@" --out "$dir" >/dev/null 2>"$dir.err"
}
case_n=0
for c in "mnist-bn.json --set log.eval_batch_stats=true" \
         "mnist-bn.json --set data.test_limit=1700 --set train.eval_batch_size=400" \
         "mnist-nobn.json"; do
  case_n=$((case_n + 1))
  run "$BNLAB" file "$T/f$case_n" $c
  run "$BNLAB" grouped "$T/g$case_n" $c
  check 'same_run "$T/f$case_n" "$T/g$case_n"' "$want, $c: the logs differ between file order and the evaluation order"
done
run "$PLANTED" grouped "$T/p1" mnist-bn.json --set log.eval_batch_stats=true
if [ $used = 1 ]; then
  check '[ -s "$T/p1/metrics.csv" ] && ! cmp -s <(strip "$T/f1/metrics.csv") <(strip "$T/p1/metrics.csv")' \
    "$want: bnlab with the planted un-permutation gave the same metrics: is the order used, is the comparison blind?"
else
  check 'same_run "$T/f1" "$T/p1"' "$want: the order is not used, yet bnlab with the planted un-permutation differs"
fi
run "$PLANTED" file "$T/q1" mnist-bn.json --set log.eval_batch_stats=true
check 'same_run "$T/f1" "$T/q1"' "$want: with BNLAB_EVAL_ORDER=file the planted binary's logs differ: is the variable ignored?"

out=$(BNLAB_EVAL_ORDER=sorted "$BNLAB" train "$ROOT/configs/mnist-bn.json" "${RUN[@]}" --out "$T/bad" 2>&1); rc=$?
check '[ $rc -ne 0 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q "BNLAB_EVAL_ORDER: expected grouped or file, found \"sorted\""' \
  "a bad BNLAB_EVAL_ORDER: exit $rc, message: $out"
check '[ ! -e "$T/bad/metrics.csv" ]' "a bad BNLAB_EVAL_ORDER still wrote a run"
finish "evalorder@$want"
