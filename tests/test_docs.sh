#!/usr/bin/env bash
# What in the documentation can go stale mechanically: the README stays short (< 300 lines) with a contents list,
# every page in docs/ has one, every relative link names a file that exists, every figure shown exists, commands name
# the program one way (build/bnlab: an inline `bnlab CMD ARG` or a code line starting with `bnlab ` is refused),
# --set values with brackets or braces are quoted (zsh would expand them), and docs/maintainers.md names every module
# of src/. Negative controls: each check is also run on a planted defect and must fail there.
# usage: test_docs.sh SOURCE_ROOT
set -u
ROOT=$1
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp docs
cd "$ROOT" || exit 1

has_contents() { grep -q '^## Contents$' "$1"; }
bad_links() {  # the relative link targets in $1 (markdown links, not http) that do not exist, relative to its folder
  local dir; dir=$(dirname "$1")
  grep -o '](\([^)#]*\)\(#[^)]*\)\?)' "$1" | sed 's/^](//; s/)$//; s/#.*//' | grep -v '^http\|^$' | sort -u |
    while read -r t; do [ -e "$dir/$t" ] || echo "$t"; done
}
binary_named_otherwise() {  # inline `bnlab CMD ARG`, or a line of a code block that starts with bnlab
  grep -n '`bnlab \(train\|check\|eval\|recalibrate\|predict\|compare\|plot\|report\|sweep\|bench\) [^`]' "$1"
  awk '/^```/ { f = !f; next } f && /^ *bnlab / { print FILENAME ":" FNR ": " $0 }' "$1"
}
unquoted_set() { grep -n -- "--set [^'\" ]*[][{}]" "$1"; }
modules_missing() {  # src modules (file stems) that $1 does not name
  for f in src/*/*.c src/*/*.h src/*/*.inc; do basename "$f" | sed 's/\.[a-z]*$//'; done | sort -u |
    while read -r m; do grep -q "\b$m\b" "$1" || echo "$m"; done
}

lines=$(wc -l < README.md)
check '[ "$lines" -lt 300 ]' "README.md is under 300 lines ($lines)"
check 'has_contents README.md' "README.md has a contents list"
for f in README.md docs/*.md; do
  [ "$f" = README.md ] || check 'has_contents "$f"' "$f has a contents list"
  b=$(bad_links "$f"); check '[ -z "$b" ]' "$f: every relative link exists (missing: $b)"
  o=$(binary_named_otherwise "$f"); check '[ -z "$o" ]' "$f names the program build/bnlab: $o"
  u=$(unquoted_set "$f"); check '[ -z "$u" ]' "$f quotes --set values with brackets or braces: $u"
done
bad_anchors() {  # links FILE#ANCHOR (or #ANCHOR) in the given pages whose anchor is no heading of FILE (GitHub's slugs)
  /usr/bin/python3 - "$@" <<'PY'
import os, re, sys
def slugs(path):
    text = re.sub(r"^```.*?^```", "", open(path, encoding="utf-8").read(), flags=re.M | re.S)
    out = set()
    for h in re.findall(r"^#+ (.+)$", text, re.M):
        s = re.sub(r"[^\w\- ]", "", re.sub(r"`", "", h).strip().lower())
        out.add(s.replace(" ", "-"))
    return out
for page in sys.argv[1:]:
    text = open(page, encoding="utf-8").read()
    for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", text):
        if target.startswith("http"):
            continue
        path = os.path.join(os.path.dirname(page), target) if target else page
        if os.path.exists(path) and anchor not in slugs(path):
            print(f"{page}: {target}#{anchor}")
PY
}
a=$(bad_anchors README.md docs/*.md)
check '[ -z "$a" ]' "every link's anchor is a heading of its page: $a"
m=$(modules_missing docs/maintainers.md | tr '\n' ' ')
check '[ -z "$m" ]' "docs/maintainers.md names every module of src/ (missing: $m)"

# Negative controls: a planted defect of each kind is caught.
printf '# x\n\nno contents, a [link](nowhere.md), --set model.layers[0].units=3\n\n```sh\nbnlab plot runs/x\n```\n' > "$T/bad.md"
printf 'run `bnlab train configs/x.json` here\n' > "$T/bad2.md"
check '! has_contents "$T/bad.md"' "control: a page without contents is caught"
check '[ "$(bad_links "$T/bad.md")" = nowhere.md ]' "control: a broken link is caught"
printf '# A page\n\n## Contents\n\n[here](#a-page) [there](#no-such-heading)\n' > "$T/anchors.md"
check '[ "$(bad_anchors "$T/anchors.md")" = "$T/anchors.md: #no-such-heading" ]' "control: a link to a missing heading is caught"
check '[ -n "$(binary_named_otherwise "$T/bad.md")" ]' "control: a bare bnlab command in a code block is caught"
check '[ -n "$(binary_named_otherwise "$T/bad2.md")" ]' "control: a bare inline bnlab command is caught"
check '[ -n "$(unquoted_set "$T/bad.md")" ]' "control: an unquoted --set with brackets is caught"
grep -v 'tfrecord' docs/maintainers.md > "$T/layout.md"
check 'modules_missing "$T/layout.md" | grep -qx tfrecord' "control: a module left out of the layout is caught"
finish docs
