#!/usr/bin/env bash
# A new layer kind needs no code outside nn/ (issue 28): tests/test_kind_row.c adds a dummy normalization and a dummy
# saturating nonlinearity as registry rows in a test build and checks they are ordered, coloured, labelled, get their
# γ/β panel and their saturation line. Negative controls:
#  - the same test linked with a copy of lab/plot_params.c whose γ/β panel is decided by the name "batchnorm" (built
#    by tests/meson.build with sed) fails, on the γ/β checks and only there;
#  - tests/test_kind_names.sh, the grep that no kind name is compared outside nn/, fails on a copy of src/ with a name
#    compared in lab/ (that same planted file), an enum value compared in run/, a csv_field_is on a name in view/, a
#    strstr and a memcmp on a name — each alone — and passes on the unplanted copy.
# usage: test_kind_row.sh TEST_KIND_ROW TEST_KIND_ROW_PLANTED PLANTED_PLOT_PARAMS_C SOURCE_ROOT
set -u
BIN=$1
PLANTED=$2
PLANTED_C=$3
ROOT=$4
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp kindrow
mkdir "$T/a" "$T/b"
BNLAB_SOURCE_ROOT=$ROOT "$BIN" "$T/a" >"$T/a.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "test_kind_row: exit $rc: $(grep FAIL "$T/a.out" | head -5)"
tail -1 "$T/a.out"
check '! cmp -s "$PLANTED_C" "$ROOT/src/lab/plot_params.c" && grep -q "strcmp(kind, \"batchnorm\")" "$PLANTED_C"' \
  "the planted copy of lab/plot_params.c decides the γ/β panel by the name \"batchnorm\" (did its sed still match?)"
BNLAB_SOURCE_ROOT=$ROOT "$PLANTED" "$T/b" >"$T/b.out" 2>&1
rc=$?
nf=$(grep -c "^FAIL" "$T/b.out")
ngb=$(grep "^FAIL" "$T/b.out" | grep -c "γ/β panel")
check '[ $rc -eq 1 ] && [ "$nf" -ge 1 ] && [ "$nf" -eq "$ngb" ]' \
  "control: with the name check planted in lab/plot_params.c: exit $rc, $nf checks failed, $ngb of them the γ/β panel's"
grep "^FAIL" "$T/b.out" | head -3
# test_kind_names.sh on copies of src/.
plant() {  # plant NAME FILE SED: a copy of src/ with one line changed; fails if the sed changed nothing
  rm -rf "$T/$1"; mkdir -p "$T/$1"; cp -r "$ROOT/src" "$T/$1/src"
  sed -i -e "$3" "$T/$1/src/$2"
  ! cmp -s "$T/$1/src/$2" "$ROOT/src/$2"
}
mkdir -p "$T/clean" && cp -r "$ROOT/src" "$T/clean/src"
bash "$ROOT/tests/test_kind_names.sh" "$T/clean" >"$T/k.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "test_kind_names.sh on an unplanted copy of src/: exit $rc"
for p in "lab|lab/plot_params.c|s/} else if (info->uses_batch_statistics \&\& info->has_affine) {/} else if (!strcmp(kind, \"batchnorm\")) {/" \
         "run|run/fold.c|s/if (k->normalizes)/if (l->spec.kind == LAYER_BATCHNORM)/" \
         "view|view/variant.c|s/if (!info->normalizes) {/if (!info->normalizes \&\& !csv_field_is(row, 0, \"layernorm\")) {/" \
         "strstr|lab/report.c|\$a static int planted(const char *k) { return strstr(k, \"batchnorm\") != NULL; }" \
         "memcmp|run/stats.c|\$a static int planted(const char *k) { return !memcmp(k, \"rmsnorm\", 7); }"; do
  IFS='|' read -r name file expr <<<"$p"
  plant "$name" "$file" "$expr"
  planted=$?
  bash "$ROOT/tests/test_kind_names.sh" "$T/$name" >"$T/k.out" 2>&1
  rc=$?
  check '[ $planted -eq 0 ] && [ $rc -ne 0 ] && grep -q "FAIL: src/$file" "$T/k.out"' \
    "control: test_kind_names.sh with a kind compared in src/$file (planted: $([ $planted -eq 0 ] && echo yes || echo "NO, the sed matched nothing")): exit $rc"
done
finish kind_row
