#!/usr/bin/env bash
# No layer-kind name decides a fact outside src/nn/: what a kind is (normalizes, uses batch statistics, has γ/β, is a
# linear map, saturates) is asked of its registry row (nn/registry.h), never by comparing its name or enum value.
# Fails on any file outside src/nn/ that compares a kind's config name (taken from the registry's rows, and the
# "norm" suffix) in strcmp/strncmp/strcasecmp/strstr/memcmp/csv_field_is/layer_kind_find, or compares/switches on a
# LAYER_<KIND> or BN_<VARIANT> value (tests/test_kind_row.sh plants each form and checks it is caught). Known exceptions are listed below with the reason; each is printed, and one that no longer matches is
# reported so the list can be tightened.
set -u
root=${1:-.}
cd "$root/src" || exit 1
# None left: run/recalibrate.c asks nn/bnvariants.h (layer_norm_blocks, layer_set_inference_stats) since issue 28.
known=()
names=$(sed -n '/^static const layer_kind_info_t KINDS/,/^};/s/.*\.name = "\([a-z0-9_]*\)".*/\1/p' nn/registry.c)
[ "$(echo "$names" | wc -l)" -ge 5 ] || { echo "FAIL: could not read the kind names from nn/registry.c"; exit 1; }
kinds=$(echo "$names" | tr 'a-z' 'A-Z' | paste -sd'|')
variants=$(sed -n '/^typedef enum {/,/} bn_variant_t;/s/^ *\(BN_[A-Z_]*\).*/\1/p' nn/layer.h | paste -sd'|')
[ -n "$variants" ] || { echo "FAIL: could not read the BN variants from nn/layer.h"; exit 1; }
lits=$( (echo "$names"; echo norm) | paste -sd'|')
pat_name="(str(n|case|ncase)?cmp|strstr|strcasestr|memcmp|csv_field_is|layer_kind_find)[[:space:]]*\(.*\"($lits)\""
vals="(LAYER_($kinds)|$variants)"
pat_enum="([=!]=[[:space:]]*$vals\b)|(\b$vals[[:space:]]*[=!]=)|(case[[:space:]]+$vals\b)"
fail=0 pass=0
files=$(find . -path ./nn -prune -o \( -name '*.c' -o -name '*.h' -o -name '*.inc' \) -print | sed 's|^\./||' | sort)
for f in $files; do
  hits=$(grep -nE "$pat_name|$pat_enum" "$f")
  is_known=0
  for k in "${known[@]}"; do [ "$f" = "$k" ] && is_known=1; done
  if [ -z "$hits" ]; then
    pass=$((pass + 1))
    [ $is_known = 1 ] && echo "NOTE: $f is listed as a known exception but compares no kind name any more: remove it"
  elif [ $is_known = 1 ]; then
    echo "known exception: src/$f:"; echo "$hits" | sed 's/^/    /'
  else
    echo "FAIL: src/$f decides a fact by a layer kind's name or enum value (ask its registry row, nn/registry.h):"
    echo "$hits" | sed 's/^/    /'
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
