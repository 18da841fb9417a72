#!/usr/bin/env bash
# valgrind memcheck over the unit-test programs and the bnlab commands (train, resume, compare children,
# eval, predict, plot, and error paths): no invalid access, no uninitialised use, no leak.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null || exit 1
bash scripts/ensure-packages.sh valgrind || exit 1
VG=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible)
T=$(mktemp -d /tmp/bnlab-memcheck-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
run() {  # NAME EXPECTED-EXIT CMD...
  local name=$1 want=$2
  shift 2
  "${VG[@]}" "$@" >"$T/$name.out" 2>"$T/$name.err"
  local rc=$?
  if [ $rc -eq "$want" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: $name: exit $rc (expected $want)"; grep -m 20 "==" "$T/$name.err"; fi
}
export BNLAB_SOURCE_ROOT=$PWD
export BNLAB_MEMCHECK=1  # tests that measure the process's own memory skip that check under valgrind
for t in gradcheck batchnorm config data optim analysis safetensors rundir stats writer tfrecord landscape; do run "unit-$t" 0 "build/tests/test_$t"; done
B=build/bnlab
Q=configs/quick-bn.json
S=(--set train.epochs=null --set train.steps=120 --set data.train_limit=1200 --set data.test_limit=300
   --set train.eval_every=40 --set train.checkpoint.every=50 --set log.ics_every=40
   --set 'model.layers[3]={"type":"dropout","rate":0.2}')
run train 0 $B train $Q "${S[@]}" --out "$T/run"
# The libxsmm backend forced (under valgrind, which hides AVX-512, `auto` picks OpenBLAS and libxsmm JITs AVX2 kernels)
run train-libxsmm 0 $B train $Q "${S[@]}" --set train.gemm=libxsmm --out "$T/run-xsmm"
rm -f "$T/run/checkpoints/step-000000120.safetensors"
run resume 0 $B train --resume "$T/run"
ck=$(ls "$T"/run/checkpoints/*.safetensors | tail -1)
run eval 0 $B eval "$ck"
run predict 0 $B predict "$ck" datasets/mnist-subset/t10k-images-idx3-ubyte.gz --out "$T/pred.csv"
run plot 0 $B plot "$T/run"
run report 0 $B report "$T/run"
run eval-bn-stats 0 $B eval "$ck" --bn-stats all --batches 5
run recalibrate 0 $B recalibrate "$T/run" --batches 5 --out "$T/a2.safetensors"
run check-spec 0 $B check configs/fig1.json
run bad-config 1 $B train $Q --set 'model.layers[3].rate=2' --out "$T/bad"
run bad-data 1 $B train $Q --set data.train_labels=$PWD/datasets/mnist-subset/t10k-labels-idx1-ubyte.gz --out "$T/bad"
head -c 2000 "$ck" >"$T/trunc.safetensors"
run bad-checkpoint 1 $B eval "$T/trunc.safetensors"
# compare spawns its children without valgrind; the parent's own bookkeeping is what is checked here
run compare 0 $B compare $Q configs/quick-nobn.json "${S[@]}" --set train.checkpoint.every=0 --jobs 2 --out "$T/cmp"
echo "memcheck: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
