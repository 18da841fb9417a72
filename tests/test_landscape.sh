#!/usr/bin/env bash
# The landscape probes leave training untouched: a run probed every 10 steps (BN, shift noise, dropout, momentum)
# writes every other log and every checkpoint byte for byte as the same run unprobed — the checkpoints differ only in
# the config they store (log.landscape.every) and that metadata's checksum; its own logs have the promised shape (a
# resume rewriting them identically: tests/test_recorders.sh, for every log).  usage: test_landscape.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp landscape

# A safetensors file is an 8-byte little-endian header length N, N bytes of JSON header, then the tensor bytes.
st_hlen() { od -An -tu8 -N8 "$1" | tr -d ' '; }
st_data() { tail -c +$(($(st_hlen "$1") + 9)) "$1"; }
# The header without the stored config, the metadata checksum (which covers the config) and the padding to 8 bytes.
st_header() {
  head -c $(($(st_hlen "$1") + 8)) "$1" | tail -c +9 |
    sed -E 's/"config":"([^"\\]|\\.)*"//; s/"metadata_crc32":"[0-9a-f]*"//; s/ *$//'
}
# same_run A B: every file of run A equals B's but the config and its digest (they differ by log.landscape), the
# wall clock (metrics' seconds, summary's seconds and peak memory) and the lock; checkpoints as above.
same_run() {
  local f name n=0
  for f in "$1"/* "$1"/checkpoints/*; do
    name=${f#"$1"/}
    case $name in
    config.json | config.digest | checkpoints | landscape*.csv) continue ;;
    metrics.csv) cmp -s <(cut -d, -f1-7 "$f") <(cut -d, -f1-7 "$2/$name") || { echo "$name differs"; return 1; } ;;
    metrics.jsonl) cmp -s <(sed 's/"seconds":[^}]*//' "$f") <(sed 's/"seconds":[^}]*//' "$2/$name") ||
      { echo "$name differs"; return 1; } ;;
    summary.json) cmp -s <(grep -v '"seconds"\|"peak_rss_mb"' "$f") <(grep -v '"seconds"\|"peak_rss_mb"' "$2/$name") ||
      { echo "$name differs"; return 1; } ;;
    checkpoints/*)
      [ -f "$2/$name" ] || { echo "$name missing"; return 1; }
      cmp -s <(st_data "$f") <(st_data "$2/$name") || { echo "$name: tensors differ"; return 1; }
      cmp -s <(st_header "$f") <(st_header "$2/$name") || { echo "$name: header differs"; return 1; } ;;
    *) cmp -s "$f" "$2/$name" || { echo "$name differs"; return 1; } ;;
    esac
    n=$((n + 1))
  done
  [ "$n" -ge 12 ] || { echo "only $n files compared"; return 1; }
}

CFG="$ROOT/configs/quick-bn.json"
ARGS=(--set train.epochs=null --set train.steps=600 --set data.train_limit=3000 --set train.eval_every=50
      --set train.checkpoint.every=100 --set train.checkpoint.keep=10 --set log.ics_every=50
      --set log.percentiles.every=10 --set train.optimizer.momentum=0.9
      --set 'model.layers[2]={"type":"noise"}' --set 'model.layers[3]={"type":"dropout","rate":0.2}')
"$BNLAB" train "$CFG" "${ARGS[@]}" --out "$T/off" >/dev/null 2>&1
rc1=$?
"$BNLAB" train "$CFG" "${ARGS[@]}" --set log.landscape.every=10 --out "$T/on" >/dev/null 2>&1
rc2=$?
check '[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]' "runs failed ($rc1, $rc2)"
check '[ ! -e "$T/off/landscape.csv" ] && [ ! -e "$T/off/landscape_band.csv" ]' "probes off wrote landscape files"
msg=$(same_run "$T/off" "$T/on")
check '[ -z "$msg" ]' "a probed run differs from the unprobed one: $msg"
check '[ "$(ls "$T/on/checkpoints" | wc -l)" -eq 6 ]' "expected 6 checkpoints, got $(ls "$T/on/checkpoints")"
# Control: the comparison sees a change in the run (another learning rate).
"$BNLAB" train "$CFG" "${ARGS[@]}" --set train.optimizer.lr=0.51 --out "$T/lr" >/dev/null 2>&1
msg=$(same_run "$T/off" "$T/lr")
check '[ -n "$msg" ]' "test bug: same_run does not see another learning rate"

# The logs: a header, 8 rows per probe (steps 0, 10, ..., 590), η = lr x [0.5, 1, ..., 4]; one band row per probe.
check '[ "$(head -1 "$T/on/landscape.csv")" = "step,eta,lr,loss,grad_diff,grad_norm,beta" ] &&
       [ "$(wc -l <"$T/on/landscape.csv")" -eq $((60 * 8 + 1)) ] && [ "$(wc -l <"$T/on/landscape_band.csv")" -eq 61 ]' \
  "landscape logs' shape: $(head -1 "$T/on/landscape.csv"), $(wc -l <"$T/on/landscape.csv") lines"
check '[ "$(sed -n 2p "$T/on/landscape.csv" | cut -d, -f1-3)" = "0,0.25,0.5" ] &&
       [ "$(sed -n 9p "$T/on/landscape.csv" | cut -d, -f1-3)" = "0,2,0.5" ] &&
       [ "$(tail -1 "$T/on/landscape_band.csv" | cut -d, -f1)" = "590" ]' "step sizes or steps: $(sed -n 2,9p "$T/on/landscape.csv")"
# The band row is the min/max of its step's rows, and β_eff the max of beta.
bad=$(awk -F, 'NR == FNR { if (FNR > 1) { s = $1; if (!(s in lmin) || $4 < lmin[s]) lmin[s] = $4; if (!(s in lmax) || $4 > lmax[s]) lmax[s] = $4;
                 if (!(s in b) || $7 > b[s]) b[s] = $7 } next }
               FNR > 1 && ($5 != lmin[$1] || $6 != lmax[$1] || $9 != b[$1]) { print $1 }' "$T/on/landscape.csv" "$T/on/landscape_band.csv" | head -3)
check '[ -z "$bad" ]' "band rows disagree with their step's rows at steps $bad"


# Config errors name the path.
"$BNLAB" check "$CFG" --set 'log.landscape.params=[1]' >/dev/null 2>"$T/e1"
check 'grep -q "log.landscape.params\[0\]: expected the index of a dense layer in model.layers, got 1 (batchnorm)" "$T/e1"' "$(cat "$T/e1")"
"$BNLAB" check "$CFG" --set 'log.landscape.lr_factors=[4,0.5]' >/dev/null 2>"$T/e2"
check 'grep -q "^bnlab: error: --set log.landscape.lr_factors (over .*): expected \[lo, hi\]" "$T/e2"' "$(cat "$T/e2")"
"$BNLAB" check "$CFG" --set 'log.landscape.spacing=cubic' >/dev/null 2>"$T/e3"
check 'grep -q "log.landscape.spacing" "$T/e3"' "$(cat "$T/e3")"
finish landscape-run
